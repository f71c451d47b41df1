using System.Numerics.Tensors;

namespace Federated.Core.Aggregation;

/// <summary>Element-wise accumulation used by the averaging strategies.</summary>
internal static class FactorSums
{
    /// <summary>target += coefficient · source.</summary>
    public static void AddScaled(Span<float> target, ReadOnlySpan<float> source, float coefficient)
        => TensorPrimitives.MultiplyAdd(source, coefficient, target, target);
}
