namespace Federated.Core.Tensors;

public static class TensorShape
{
    /// <summary>A shape as messages show it: [4, 64].</summary>
    public static string Describe(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
