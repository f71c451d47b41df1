namespace Federated.Core.Adapters;

/// <summary>
/// A LoRA adapter over a set of linear layers ("modules", named as in the Hugging Face model, e.g.
/// model.layers.0.self_attn.q_proj). Every module's weight update is ΔW = Scale · B · A.
/// </summary>
public sealed class LoraAdapter
{
    private readonly Dictionary<string, LoraFactors> _modules;

    public LoraAdapter(IEnumerable<KeyValuePair<string, LoraFactors>> modules, double scale)
    {
        if (!double.IsFinite(scale))
            throw new ArgumentException($"adapter scale must be finite, got {scale}", nameof(scale));
        _modules = new Dictionary<string, LoraFactors>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var (name, factors) in modules)
        {
            if (!_modules.TryAdd(name, factors))
                throw new ArgumentException($"module '{name}' appears twice", nameof(modules));
            order.Add(name);
        }
        ModuleNames = order;
        Scale = scale;
    }

    /// <summary>Module names in a stable order (the order they were given in).</summary>
    public IReadOnlyList<string> ModuleNames { get; }

    public IReadOnlyDictionary<string, LoraFactors> Modules => _modules;

    public double Scale { get; }

    /// <summary>The largest rank of any module (all modules share it for adapters trained by one client).</summary>
    public int Rank => _modules.Count == 0 ? 0 : _modules.Values.Max(f => f.Rank);

    public LoraFactors this[string module] => _modules[module];

    /// <summary>
    /// The first <paramref name="rank"/> components of every module (rows of A, columns of B), same scale:
    /// zero-padding's per-rank view, and the rank-r truncated SVD of a compacted adapter, whose components
    /// come in order of their singular values.
    /// </summary>
    public LoraAdapter Truncated(int rank)
    {
        var modules = new List<KeyValuePair<string, LoraFactors>>(ModuleNames.Count);
        foreach (var module in ModuleNames)
        {
            var f = this[module];
            var keep = Math.Min(rank, f.Rank);
            var a = new Matrix(keep, f.InFeatures, f.A.Data.AsSpan(0, keep * f.InFeatures).ToArray());
            var b = new Matrix(f.OutFeatures, keep);
            for (int row = 0; row < f.OutFeatures; row++)
                f.B.Row(row)[..keep].CopyTo(b.Row(row));
            modules.Add(new(module, new LoraFactors(a, b)));
        }
        return new LoraAdapter(modules, Scale);
    }
}
