using Federated.Core.Checkpoints;
using Federated.Core.Generation;
using Federated.Core.Model;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Checkpoints;

public class Llama2cCheckpointTests
{
    private const int Steps = 40;

    [Fact]
    public void The_header_of_stories260K_becomes_its_config()
    {
        var info = ModelCatalog.Inspect(TestModels.Stories260K);
        Assert.Equal(CheckpointFormat.Llama2c, info.Format);
        var config = info.Config;
        Assert.Equal((64, 172, 5, 8, 4, 512, 512), (config.HiddenSize, config.IntermediateSize, config.NumLayers, config.NumHeads, config.NumKeyValueHeads, config.VocabSize, config.MaxPositionEmbeddings));
        Assert.True(config.TieWordEmbeddings);
        Assert.Equal(1, config.BosTokenId);
    }

    [Fact]
    public void First_step_logits_agree_with_the_reference()
    {
        var reference = new Llama2cReference(TestModels.Stories260K);
        var expected = reference.Forward(1, 0);
        using var model = Llama2cCheckpoint.Load(TestModels.Stories260K, CPU);
        using var scope = NewDisposeScope();
        var actual = model.forward(tensor(new long[] { 1 }, [1, 1]))[0, 0].data<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst < 1e-4, $"largest logit difference {worst}");
    }

    [Fact]
    public void Logits_agree_with_the_reference_at_every_position_of_a_sequence()
    {
        int[] tokens = [1, 403, 407, 261, 378, 430, 289, 365, 271, 500, 12, 300];
        var reference = new Llama2cReference(TestModels.Stories260K);
        using var model = Llama2cCheckpoint.Load(TestModels.Stories260K, CPU);
        using var scope = NewDisposeScope();
        var logits = model.forward(tensor(tokens.Select(t => (long)t).ToArray(), [1, tokens.Length]));
        for (int pos = 0; pos < tokens.Length; pos++)
        {
            var expected = reference.Forward(tokens[pos], pos);
            var actual = logits[0, pos].data<float>().ToArray();
            var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            Assert.True(worst < 1e-4, $"position {pos}: largest logit difference {worst}");
        }
    }

    [Fact]
    public void Greedy_decoding_from_BOS_gives_the_reference_token_ids()
    {
        var expected = new Llama2cReference(TestModels.Stories260K).Greedy(bos: 1, Steps);
        using var model = ModelCatalog.Load(TestModels.Stories260K, CPU);
        var actual = TokenGenerator.Generate(model, [1], Steps, temperature: 0);
        Assert.Equal(expected, actual);
        Assert.True(expected.Count >= 20, $"the reference stopped after {expected.Count} tokens");
        Assert.True(expected.Distinct().Count() > 5, "a real checkpoint does not repeat one token");
    }

    [Fact]
    public void Without_the_row_permutation_outputs_would_differ()
    {
        // Guards the conformance tests against passing trivially: llama2.c's pairwise RoPE must be mapped to rotate-half.
        float[] rows = [0, 1, 2, 3, 4, 5, 6, 7];
        Llama2cCheckpoint.InterleavedToHalves(rows, heads: 2, headDim: 4, columns: 1);
        Assert.Equal([0f, 2, 1, 3, 4, 6, 5, 7], rows);
    }

    [Fact]
    public void A_truncated_file_is_refused_with_both_sizes()
    {
        using var directory = new TemporaryFolder();
        var path = Path.Combine(directory.Path, "cut.bin");
        var bytes = File.ReadAllBytes(TestModels.Stories260K);
        File.WriteAllBytes(path, bytes[..^4]);
        var error = Assert.Throws<CheckpointFormatException>(() => Llama2cCheckpoint.Load(path, CPU));
        Assert.Contains($"is {bytes.Length - 4} bytes", error.Message);
        Assert.Contains($"describes {bytes.Length}", error.Message);
        Assert.Contains("dim=64", error.Message);
    }

    [Fact]
    public void Bad_headers_are_refused_naming_the_field()
    {
        using var directory = new TemporaryFolder();
        var path = Path.Combine(directory.Path, "bad.bin");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(64), .. BitConverter.GetBytes(-3), .. new byte[20]]);
        Assert.Contains("hidden_dim is -3", Assert.Throws<CheckpointFormatException>(() => Llama2cCheckpoint.Describe(path)).Message);
        File.WriteAllBytes(path, [.. "24ka"u8.ToArray(), .. new byte[40]]);
        Assert.Contains("ak42", Assert.Throws<CheckpointFormatException>(() => Llama2cCheckpoint.Describe(path)).Message);
        File.WriteAllBytes(path, new byte[10]);
        Assert.Contains("28-byte header", Assert.Throws<CheckpointFormatException>(() => Llama2cCheckpoint.Describe(path)).Message);
    }

    [Fact]
    public void A_checkpoint_with_its_own_classifier_loads_it_as_lm_head()
    {
        // Rewrite stories260K with a negative vocab_size and a separate classifier (the embeddings, scaled by 2).
        using var directory = new TemporaryFolder();
        var path = Path.Combine(directory.Path, "untied.bin");
        var bytes = File.ReadAllBytes(TestModels.Stories260K);
        var header = bytes[..28];
        BitConverter.GetBytes(-512).CopyTo(header, 20);
        var embedding = bytes.AsSpan(28, 512 * 64 * 4).ToArray();
        var classifier = new byte[embedding.Length];
        for (int i = 0; i < embedding.Length; i += 4)
            BitConverter.GetBytes(BitConverter.ToSingle(embedding, i) * 2).CopyTo(classifier, i);
        File.WriteAllBytes(path, [.. header, .. bytes[28..], .. classifier]);

        using var tied = Llama2cCheckpoint.Load(TestModels.Stories260K, CPU);
        using var untied = Llama2cCheckpoint.Load(path, CPU);
        Assert.False(untied.Config.TieWordEmbeddings);
        using var scope = NewDisposeScope();
        var tokens = tensor(new long[] { 1, 403, 407 }, [1, 3]);
        Assert.True(untied.forward(tokens).allclose(tied.forward(tokens).mul(2), rtol: 1e-5, atol: 1e-5));
    }
}
