using TorchSharp;
using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>
/// Rotary position embeddings (Su et al., 2021) in the Hugging Face layout: the head dimension is split in
/// halves (x₁, x₂) and rotated as x·cos + (−x₂, x₁)·sin, with frequencies θ^(−2i/d), optionally
/// adjusted by Llama 3's <see cref="Llama3RopeScaling"/>.
/// </summary>
public sealed class RotaryEmbedding : nn.Module
{
    private readonly Tensor _cos;
    private readonly Tensor _sin;

    public RotaryEmbedding(string name, int headDim, int maxPositions, double theta, Device device, Llama3RopeScaling? scaling = null)
        : base(name)
    {
        using var scope = NewDisposeScope();
        var inverse = arange(0, headDim, 2, dtype: ScalarType.Float64).div_(headDim).mul_(-Math.Log(theta)).exp_();
        if (scaling is not null)
            inverse = tensor(inverse.data<double>().ToArray().Select(scaling.Adjust).ToArray(), dtype: ScalarType.Float64);
        var positions = arange(maxPositions, dtype: ScalarType.Float64);
        var angles = outer(positions, inverse);
        var doubled = cat([angles, angles], dim: -1);
        _cos = doubled.cos().to(ScalarType.Float32).to(device).MoveToOuterDisposeScope();
        _sin = doubled.sin().to(ScalarType.Float32).to(device).MoveToOuterDisposeScope();
        register_buffer("cos", _cos, persistent: false);
        register_buffer("sin", _sin, persistent: false);
    }

    public int MaxPositions => (int)_cos.shape[0];

    /// <summary>Rotates [batch, heads, seq, headDim] queries or keys by their positions 0..seq-1.</summary>
    public Tensor Apply(Tensor x) => Apply(x, 0);

    /// <summary>Rotates [batch, heads, seq, headDim] queries or keys by their positions start..start+seq-1.</summary>
    public Tensor Apply(Tensor x, long start)
    {
        using var scope = NewDisposeScope();
        var length = x.shape[2];
        var cos = _cos.narrow(0, start, length);
        var sin = _sin.narrow(0, start, length);
        var half = x.shape[3] / 2;
        var rotated = cat([x.narrow(3, half, half).neg(), x.narrow(3, 0, half)], dim: -1);
        return x.mul(cos).add_(rotated.mul_(sin)).MoveToOuterDisposeScope();
    }
}
