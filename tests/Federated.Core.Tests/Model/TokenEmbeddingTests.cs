using Federated.Core.Model;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Model;

public sealed class TokenEmbeddingTests
{
    [Fact]
    public void Each_id_becomes_its_row_and_the_table_is_named_weight()
    {
        using var embedding = new TokenEmbedding("embed_tokens", vocabSize: 5, hiddenSize: 3, CPU);
        Assert.Equal(["weight"], embedding.named_parameters().Select(p => p.name));
        Assert.False(embedding.Weight.requires_grad);
        using (no_grad())
            embedding.Weight.copy_(arange(15, dtype: ScalarType.Float32).view(5, 3));
        using var ids = tensor(new long[] { 4, 0, 2, 2, 1, 3 }, [2, 3]);
        using var rows = embedding.forward(ids);
        Assert.Equal([2L, 3L, 3L], rows.shape);
        float[] expected = [12, 13, 14, 0, 1, 2, 6, 7, 8, 6, 7, 8, 3, 4, 5, 9, 10, 11];
        Assert.Equal(expected, rows.data<float>().ToArray());
    }
}
