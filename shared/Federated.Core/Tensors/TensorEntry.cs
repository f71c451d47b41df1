namespace Federated.Core.Tensors;

/// <summary>One tensor in a safetensors payload: its name, type, shape and byte range after the header.</summary>
public sealed record TensorEntry(string Name, TensorDType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (product, dim) => product * dim);

    public string ShapeText => TensorShape.Describe(Shape);
}
