namespace Federated.Core.Tensors;

/// <summary>A named float32 tensor held in managed memory, row-major.</summary>
public sealed record NamedTensor(string Name, IReadOnlyList<long> Shape, float[] Data)
{
    public long ElementCount => Shape.Aggregate(1L, (p, d) => p * d);
}
