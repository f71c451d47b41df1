using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>
/// The token embedding table [vocab, hidden], frozen, left uninitialised for its maker to fill (as
/// <see cref="LoraLinear"/>'s weights are). Not nn.Embedding: that draws N(0, 1) values for the whole table
/// (about a second for 32k × 1024 here, even through from_pretrained) only for a loader to overwrite them.
/// </summary>
public sealed class TokenEmbedding : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "weight")]
    private readonly Parameter _weight;

    public TokenEmbedding(string name, int vocabSize, int hiddenSize, Device device)
        : base(name)
    {
        _weight = new Parameter(empty(vocabSize, hiddenSize, device: device), requires_grad: false);
        RegisterComponents();
    }

    public Parameter Weight => _weight;

    /// <summary>Token ids [batch, seq] (int64) to their rows [batch, seq, hidden].</summary>
    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        long[] shape = [.. tokens.shape, _weight.shape[1]];
        return _weight.index_select(0, tokens.reshape(-1)).view(shape).MoveToOuterDisposeScope();
    }
}
