using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>SwiGLU feed-forward (Shazeer, 2020): down(silu(gate(x)) ⊙ up(x)).</summary>
public sealed class LlamaMlp : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "gate_proj")]
    private readonly LoraLinear _gateProj;

    [ComponentName(Name = "up_proj")]
    private readonly LoraLinear _upProj;

    [ComponentName(Name = "down_proj")]
    private readonly LoraLinear _downProj;

    public LlamaMlp(string name, LlamaConfig config, Device device)
        : base(name)
    {
        _gateProj = new LoraLinear("gate_proj", config.HiddenSize, config.IntermediateSize, false, device);
        _upProj = new LoraLinear("up_proj", config.HiddenSize, config.IntermediateSize, false, device);
        _downProj = new LoraLinear("down_proj", config.IntermediateSize, config.HiddenSize, false, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // Intermediates not saved for backward die with this scope instead of living until the caller's ends.
        using var scope = NewDisposeScope();
        var gate = _gateProj.forward(x);
        if (!is_grad_enabled())
        {
            // Nothing is saved for a backward pass, so the two [.., intermediate] products reuse gate's memory.
            return _downProj.forward(nn.functional.silu(gate, inplace: true).mul_(_upProj.forward(x))).MoveToOuterDisposeScope();
        }
        return _downProj.forward(nn.functional.silu(gate).mul(_upProj.forward(x))).MoveToOuterDisposeScope();
    }
}
