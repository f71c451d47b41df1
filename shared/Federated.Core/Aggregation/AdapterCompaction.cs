using Federated.Core.Adapters;
using TorchSharp;
using static TorchSharp.torch;

namespace Federated.Core.Aggregation;

/// <summary>How far compaction may go: a rank budget (0 = none) and the relative size below which singular values are dropped.</summary>
public sealed record CompactionOptions(int RankBudget = 0, double Tolerance = 1e-6)
{
    public static CompactionOptions Exact { get; } = new();
}

/// <summary>One module's compaction: ranks before and after, and the relative Frobenius error of the dropped part.</summary>
public sealed record ModuleCompaction(string Module, int InputRank, int OutputRank, double RelativeError);

/// <summary>A compacted adapter and what compaction did to each module.</summary>
public sealed record CompactionResult(LoraAdapter Adapter, IReadOnlyList<ModuleCompaction> Modules)
{
    public int InputRank => Modules.Count == 0 ? 0 : Modules.Max(m => m.InputRank);

    public int OutputRank => Modules.Count == 0 ? 0 : Modules.Max(m => m.OutputRank);

    public double MaxRelativeError => Modules.Count == 0 ? 0 : Modules.Max(m => m.RelativeError);
}

/// <summary>
/// Re-factorises the sum of several updates Σ_j s_j B_j A_j into one low-rank adapter. Per module, with the
/// factors stacked (B = [s_1 B_1 … s_n B_n], A = [A_1; …; A_n], total rank R): QR of B = Q_B R_B and of
/// Aᵀ = Q_A R_A, then the SVD of the small R×R core R_B R_Aᵀ = U Σ Vᵀ. Since Q_B and Q_A have orthonormal
/// columns, B·A = (Q_B U) Σ (Q_A V)ᵀ, so keeping the singular values above the tolerance is exact to that
/// tolerance, and the Frobenius error of dropping σ_{k+1..} is exactly sqrt(Σ dropped σ²) / sqrt(Σ σ²).
/// Cost O((in + out)·R² + R³) per module; the dense in×out product is never formed.
/// </summary>
public static class AdapterCompaction
{
    /// <summary>Compacts the sum of <paramref name="updates"/> (each with its own scale); all must cover the same modules and shapes.</summary>
    public static CompactionResult Compact(IReadOnlyList<LoraAdapter> updates, CompactionOptions? options = null)
    {
        options ??= CompactionOptions.Exact;
        if (options.RankBudget < 0)
            throw new ArgumentException($"rank budget must be 0 (none) or positive, got {options.RankBudget}", nameof(options));
        if (!(options.Tolerance >= 0 && options.Tolerance < 1))
            throw new ArgumentException($"tolerance must be in [0, 1), got {options.Tolerance}", nameof(options));
        var inputs = updates.Select((u, j) => new WeightedAdapter(u, 1, $"update {j + 1}")).ToList();
        var shapes = ModuleShapes.Agreed(inputs);
        var coefficients = updates.Select(u => (float)u.Scale).ToArray();
        var modules = new List<KeyValuePair<string, LoraFactors>>(shapes.Count);
        var reports = new List<ModuleCompaction>(shapes.Count);
        foreach (var (module, inFeatures, outFeatures) in shapes)
        {
            var stacked = StackingStrategy.StackModule(updates.Select(u => u[module]).ToList(), coefficients, inFeatures, outFeatures);
            var (factors, report) = CompactModule(module, stacked, options);
            modules.Add(new(module, factors));
            reports.Add(report);
        }
        return new CompactionResult(new LoraAdapter(modules, scale: 1.0), reports);
    }

    /// <summary>Compacts one module's factors (update B·A, scale folded in already).</summary>
    public static (LoraFactors Factors, ModuleCompaction Report) CompactModule(string module, LoraFactors factors, CompactionOptions options)
    {
        using var scope = NewDisposeScope();
        var b = tensor(factors.B.Data, [factors.OutFeatures, factors.Rank]).to(float64);
        var a = tensor(factors.A.Data, [factors.Rank, factors.InFeatures]).to(float64);
        var (qb, rb) = linalg.qr(b);
        var (qa, ra) = linalg.qr(a.t());
        var (u, s, vh) = linalg.svd(rb.matmul(ra.t()), fullMatrices: false);

        var sigma = s.data<double>().ToArray();
        var total = sigma.Sum(x => x * x);
        var keep = 0;
        while (keep < sigma.Length && sigma[keep] > options.Tolerance * sigma[0])
            keep++;
        if (options.RankBudget > 0)
            keep = Math.Min(keep, options.RankBudget);
        var dropped = sigma.Skip(keep).Sum(x => x * x);
        var error = total > 0 ? Math.Sqrt(dropped / total) : 0;
        keep = Math.Max(keep, 1); // a module always keeps a factor pair, if only a zero one

        // Split Σ evenly between the factors so neither carries all the magnitude.
        var root = s[..keep].sqrt();
        var newB = qb.matmul(u[.., ..keep] * root.unsqueeze(0));
        var newA = (root.unsqueeze(1) * vh[..keep, ..]).matmul(qa.t());
        var result = new LoraFactors(ToMatrix(newA), ToMatrix(newB));
        return (result, new ModuleCompaction(module, factors.Rank, keep, error));
    }

    private static Matrix ToMatrix(Tensor t)
    {
        using var f = t.to(float32).contiguous();
        return new Matrix((int)f.shape[0], (int)f.shape[1], f.data<float>().ToArray());
    }
}
