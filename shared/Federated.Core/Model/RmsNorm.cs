using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>Root-mean-square layer norm (Zhang and Sennrich, 2019): x / √(mean(x²) + ε) · g.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "weight")]
    private readonly Parameter _weight;

    private readonly double _eps;

    public RmsNorm(string name, int size, double eps, Device device)
        : base(name)
    {
        _eps = eps;
        _weight = new Parameter(ones(size, device: device), requires_grad: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        // A named Scalar, disposed at the end: an implicit one can be finalized during the native call that uses it.
        using var eps = _eps.ToScalar();
        using var scope = NewDisposeScope();
        var variance = input.square().mean([-1L], keepdim: true);
        return input.mul(variance.add_(eps).rsqrt_()).mul_(_weight).MoveToOuterDisposeScope();
    }
}
