using Federated.Core.Adapters;

namespace Federated.Core.Aggregation;

/// <summary>Checks that every input adapter covers the same modules with the same layer shapes, naming the first mismatch.</summary>
public static class ModuleShapes
{
    /// <summary>The first adapter's modules with their (in, out) features, once every input agrees with them.</summary>
    public static IReadOnlyList<(string Module, int In, int Out)> Agreed(IReadOnlyList<WeightedAdapter> inputs)
    {
        if (inputs.Count == 0)
            throw new ArgumentException("aggregation needs at least one adapter", nameof(inputs));
        var reference = inputs[0];
        var modules = new List<(string, int, int)>(reference.Adapter.ModuleNames.Count);
        foreach (var module in reference.Adapter.ModuleNames)
        {
            var first = reference.Adapter[module];
            foreach (var input in inputs)
            {
                if (!input.Adapter.Modules.TryGetValue(module, out var factors))
                    throw new AdapterFormatException($"adapter from {input.Source} lacks module '{module}'");
                if (factors.InFeatures != first.InFeatures || factors.OutFeatures != first.OutFeatures)
                    throw new AdapterFormatException($"module '{module}' is {factors.OutFeatures}×{factors.InFeatures} in the adapter from {input.Source} but {first.OutFeatures}×{first.InFeatures} in the adapter from {reference.Source}");
            }
            modules.Add((module, first.InFeatures, first.OutFeatures));
        }
        foreach (var input in inputs.Skip(1))
        {
            foreach (var module in input.Adapter.ModuleNames)
            {
                if (!reference.Adapter.Modules.ContainsKey(module))
                    throw new AdapterFormatException($"adapter from {input.Source} has module '{module}', which the adapter from {reference.Source} lacks");
            }
        }
        return modules;
    }
}
