using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Federated.Core.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter, 2019) over the LoRA factors, with the same update as PyTorch's and
/// TorchSharp's: p ← p·(1 − lr·λ); m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
/// p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε). Ours rather than TorchSharp's because that one passes
/// every coefficient as an implicit <see cref="Scalar"/> that nothing keeps alive during the native call, so
/// the finalizer can free it mid-call (seen as rare libtorch errors in long runs); here each coefficient is
/// a Scalar held until the call returns.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly Tensor[] _firstMoments;
    private readonly Tensor[] _secondMoments;
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _epsilon;
    private readonly double _weightDecay;

    public AdamWOptimizer(IReadOnlyList<Parameter> parameters, double weightDecay = 0, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
            throw new ArgumentOutOfRangeException(nameof(beta1), $"betas must be in [0, 1), got {beta1} and {beta2}");
        if (!(epsilon > 0))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive");
        if (!(weightDecay >= 0))
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weight decay must be ≥ 0");
        _parameters = parameters;
        (_beta1, _beta2, _epsilon, _weightDecay) = (beta1, beta2, epsilon, weightDecay);
        using var noGrad = no_grad();
        _firstMoments = [.. parameters.Select(p => zeros_like(p).DetachFromDisposeScope())];
        _secondMoments = [.. parameters.Select(p => zeros_like(p).DetachFromDisposeScope())];
    }

    /// <summary>Updates taken so far.</summary>
    public int Steps { get; private set; }

    /// <summary>Zeroes every parameter's gradient in place (kept allocated: the next backward pass fills it again).</summary>
    public void ZeroGradients()
    {
        using var scope = NewDisposeScope();
        foreach (var parameter in _parameters)
        {
            if (parameter.grad is { } grad)
                grad.zero_();
        }
    }

    /// <summary>One update at learning rate <paramref name="learningRate"/>; parameters without a gradient are left alone.</summary>
    public void Step(double learningRate)
    {
        Steps++;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var decay = (1 - learningRate * _weightDecay).ToScalar();
        using var beta1 = _beta1.ToScalar();
        using var beta2 = _beta2.ToScalar();
        using var oneMinusBeta1 = (1 - _beta1).ToScalar();
        using var oneMinusBeta2 = (1 - _beta2).ToScalar();
        using var correction2 = Math.Sqrt(1 - Math.Pow(_beta2, Steps)).ToScalar();
        using var epsilon = _epsilon.ToScalar();
        using var stepSize = (-learningRate / (1 - Math.Pow(_beta1, Steps))).ToScalar();
        for (int i = 0; i < _parameters.Count; i++)
        {
            var parameter = _parameters[i];
            if (parameter.grad is not { } grad)
                continue;
            if (_weightDecay > 0)
                parameter.mul_(decay);
            _firstMoments[i].mul_(beta1).add_(grad, oneMinusBeta1);
            _secondMoments[i].mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
            var denominator = _secondMoments[i].sqrt().div_(correction2).add_(epsilon);
            parameter.addcdiv_(_firstMoments[i], denominator, stepSize);
        }
    }

    public void Dispose()
    {
        foreach (var tensor in _firstMoments.Concat(_secondMoments))
            tensor.Dispose();
    }
}
