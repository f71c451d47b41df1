using Federated.Core.Tensors;

namespace Federated.Core.Adapters;

/// <summary>The modules an adapter must cover and each module's (in, out) features, derived from the model and the job's target modules.</summary>
public sealed class AdapterLayout
{
    private readonly Dictionary<string, (int In, int Out)> _modules;

    public AdapterLayout(IEnumerable<(string Module, int In, int Out)> modules)
    {
        _modules = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var (module, inFeatures, outFeatures) in modules)
        {
            _modules.Add(module, (inFeatures, outFeatures));
            order.Add(module);
        }
        ModuleNames = order;
    }

    public IReadOnlyList<string> ModuleNames { get; }

    public (int In, int Out) this[string module] => _modules[module];

    public bool Contains(string module) => _modules.ContainsKey(module);

    /// <summary>Bytes of a float32 adapter of this layout at the given rank, header excluded.</summary>
    public long DataBytes(int rank) => _modules.Values.Sum(m => (long)rank * (m.In + m.Out) * sizeof(float));

    /// <summary>
    /// Checks a payload header before its data is read: exactly the layout's modules, float32 factors of
    /// shapes [rank, in] and [out, rank]. Throws <see cref="AdapterFormatException"/> naming the first problem.
    /// </summary>
    public void ValidateHeader(SafeTensorsHeader header, int rank)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in header.Tensors)
        {
            if (!AdapterTensorNames.TryParse(tensor.Name, out var module, out var factor))
                throw new AdapterFormatException($"tensor '{tensor.Name}' is not a LoRA factor of this job");
            if (!_modules.TryGetValue(module, out var dims))
                throw new AdapterFormatException($"tensor '{tensor.Name}' names module '{module}', which is not a target module of this job");
            if (tensor.DType != TensorDType.F32)
                throw new AdapterFormatException($"tensor '{tensor.Name}' is {tensor.DType}; updates are float32 (F32)");
            IReadOnlyList<long> expected = factor == 'A' ? [rank, dims.In] : [dims.Out, rank];
            if (!tensor.Shape.SequenceEqual(expected))
            {
                var rankHint = factor == 'A' ? tensor.Shape.Count == 2 && tensor.Shape[1] == dims.In : tensor.Shape.Count == 2 && tensor.Shape[0] == dims.Out;
                var why = rankHint ? $" (rank {(factor == 'A' ? tensor.Shape[0] : tensor.Shape[1])} instead of the assigned rank {rank})" : "";
                throw new AdapterFormatException($"tensor '{tensor.Name}' has shape {tensor.ShapeText}; expected {TensorShape.Describe(expected)}{why}");
            }
            seen.Add(tensor.Name);
        }
        foreach (var module in ModuleNames)
        {
            foreach (var name in new[] { AdapterTensorNames.A(module), AdapterTensorNames.B(module) })
            {
                if (!seen.Contains(name))
                    throw new AdapterFormatException($"tensor '{name}' is missing");
            }
        }
    }
}
