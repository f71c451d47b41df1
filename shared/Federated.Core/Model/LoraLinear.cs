using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>
/// A frozen linear layer y = x Wᵀ + b with an optional LoRA branch: y += (alpha / r) · dropout(x) Aᵀ Bᵀ
/// (Hu et al., 2021). A is [r, in], B is [out, r]; B starts at zero so a fresh branch changes nothing.
/// The branch's parameters are not registered with the module: they come and go every round and are
/// handed to the optimizer explicitly.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "weight")]
    private readonly Parameter _weight;

    [ComponentName(Name = "bias")]
    private readonly Parameter? _bias;

    private LoraBranch? _lora;

    private ScalarType? _computeType;
    private Tensor? _weightCast;
    private Tensor? _biasCast;

    public LoraLinear(string name, int inFeatures, int outFeatures, bool bias, Device device)
        : base(name)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        // Left uninitialised: every maker of a model (checkpoint loaders, BuiltinModels) fills the base weights,
        // and filling zeros first would touch the whole model's memory once more for nothing.
        _weight = new Parameter(empty(outFeatures, inFeatures, device: device), requires_grad: false);
        _bias = bias ? new Parameter(empty(outFeatures, device: device), requires_grad: false) : null;
        RegisterComponents();
    }

    public int InFeatures { get; }

    public int OutFeatures { get; }

    public Parameter Weight => _weight;

    public Parameter? Bias => _bias;

    public LoraSettings? Lora => _lora?.Settings;

    public Parameter? LoraA => _lora?.A;

    public Parameter? LoraB => _lora?.B;

    /// <summary>Draws LoRA dropout masks when set (the model owns it); otherwise dropout uses the global generator.</summary>
    public Generator? DropoutGenerator { get; set; }

    public override Tensor forward(Tensor input)
    {
        if (_computeType is { } type)
            return ForwardIn(type, input);
        if (_lora is null)
            return nn.functional.linear(input, _weight, _bias);
        // The [.., out] update dies with this scope once added, not at the end of the caller's.
        using var scope = NewDisposeScope();
        var output = nn.functional.linear(input, _weight, _bias);
        var x = Dropout(input);
        var update = nn.functional.linear(nn.functional.linear(x, _lora.A), _lora.B);
        return output.add_(update.mul_(_lora.Scaling)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs the products in <paramref name="type"/> (bf16 or fp16), on a cached copy of the frozen weights,
    /// returning outputs in the input's type; null returns to the weights' own type.
    /// </summary>
    public void SetComputeType(ScalarType? type)
    {
        ClearCasts();
        _computeType = type == _weight.dtype ? null : type;
        if (_computeType is not { } t)
            return;
        using var noGrad = no_grad();
        _weightCast = _weight.detach().to(t).DetachFromDisposeScope();
        _biasCast = _bias?.detach().to(t).DetachFromDisposeScope();
    }

    private Tensor ForwardIn(ScalarType type, Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input.to(type);
        var output = nn.functional.linear(x, _weightCast!, _biasCast);
        if (_lora is not null)
        {
            var dropped = Dropout(x);
            var update = nn.functional.linear(nn.functional.linear(dropped, _lora.A.to(type)), _lora.B.to(type));
            output = output.add_(update.mul_(_lora.Scaling));
        }
        return output.to(input.dtype).MoveToOuterDisposeScope();
    }

    private Tensor Dropout(Tensor x)
    {
        var p = _lora!.Settings.Dropout;
        if (p == 0 || !training)
            return x;
        if (DropoutGenerator is not { } generator)
            return nn.functional.dropout(x, p, training);
        using var threshold = p.ToScalar();
        using var kept = (1 - p).ToScalar();
        var keep = rand(x.shape, dtype: x.dtype, device: x.device, generator: generator).ge_(threshold);
        return x.mul(keep).div_(kept);
    }

    /// <summary>Replaces the LoRA branch with a fresh one: A ~ U(±1/√in) drawn from <paramref name="generator"/>, B = 0.</summary>
    public void AttachLora(LoraSettings settings, Generator generator)
    {
        settings.Validate();
        DetachLora();
        var device = _weight.device;
        var bound = 1.0 / Math.Sqrt(InFeatures);
        using var scope = NewDisposeScope();
        var a = rand([settings.Rank, InFeatures], generator: generator).mul_(2 * bound).sub_(bound).to(device);
        var b = zeros(OutFeatures, settings.Rank, device: device);
        _lora = new LoraBranch(settings, new Parameter(a, requires_grad: true), new Parameter(b, requires_grad: true), settings.Scaling.ToScalar());
        _lora.A.MoveToOuterDisposeScope();
        _lora.B.MoveToOuterDisposeScope();
    }

    public void DetachLora()
    {
        _lora?.A.Dispose();
        _lora?.B.Dispose();
        _lora?.Scaling.Dispose();
        _lora = null;
    }

    /// <summary>W ← W + delta, for a delta of shape [out, in].</summary>
    public void MergeDelta(Tensor delta)
    {
        if (delta.shape.Length != 2 || delta.shape[0] != OutFeatures || delta.shape[1] != InFeatures)
            throw new ArgumentException($"{GetName()}: delta has shape {Tensors.TensorShape.Describe(delta.shape)}; expected [{OutFeatures}, {InFeatures}]");
        using var noGrad = no_grad();
        _weight.add_(delta.to(_weight.dtype).to(_weight.device));
        SetComputeType(_computeType);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DetachLora();
            ClearCasts();
        }
        base.Dispose(disposing);
    }

    private void ClearCasts()
    {
        _weightCast?.Dispose();
        _biasCast?.Dispose();
        _weightCast = _biasCast = null;
    }

    /// <summary>The branch's factors and its alpha / r as a Scalar it owns: an implicit one could be finalized during the native call that uses it.</summary>
    private sealed record LoraBranch(LoraSettings Settings, Parameter A, Parameter B, Scalar Scaling);
}
