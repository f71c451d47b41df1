using Federated.Core.Adapters;

namespace Federated.Core.Model;

/// <summary>The linear layers LoRA can target, and the module names they expand to.</summary>
public static class TargetModules
{
    public static readonly IReadOnlyList<string> Attention = ["q_proj", "k_proj", "v_proj", "o_proj"];

    public static readonly IReadOnlyList<string> Mlp = ["gate_proj", "up_proj", "down_proj"];

    public static readonly IReadOnlyList<string> All = [.. Attention, .. Mlp];

    /// <summary>Full module name of a projection in a layer, e.g. model.layers.3.self_attn.q_proj.</summary>
    public static string ModuleName(int layer, string projection)
        => Attention.Contains(projection) ? $"model.layers.{layer}.self_attn.{projection}"
            : Mlp.Contains(projection) ? $"model.layers.{layer}.mlp.{projection}"
            : throw new ArgumentException($"unknown target module '{projection}'; choose from {string.Join(", ", All)}");

    /// <summary>Throws naming any projection that is not a LoRA target.</summary>
    public static IReadOnlyList<string> Validate(IEnumerable<string> projections)
    {
        var list = projections.Distinct(StringComparer.Ordinal).ToList();
        if (list.Count == 0)
            throw new ArgumentException($"at least one target module is needed; choose from {string.Join(", ", All)}");
        foreach (var projection in list)
        {
            if (!All.Contains(projection))
                throw new ArgumentException($"unknown target module '{projection}'; choose from {string.Join(", ", All)}");
        }
        return list;
    }

    public static AdapterLayout Layout(LlamaConfig config, IEnumerable<string> projections)
    {
        var valid = Validate(projections);
        var modules = new List<(string, int, int)>();
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            foreach (var projection in All.Where(valid.Contains))
            {
                var (inFeatures, outFeatures) = config.LinearShape(projection);
                modules.Add((ModuleName(layer, projection), inFeatures, outFeatures));
            }
        }
        return new AdapterLayout(modules);
    }
}
