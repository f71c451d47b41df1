using static TorchSharp.torch;

namespace Federated.Core.Adapters;

/// <summary>One module's difference between two adapters' updates.</summary>
public sealed record ModuleDifference(string Module, double RelativeError, double NormA, double NormB);

/// <summary>
/// Compares adapters by their updates ΔW = s·B·A without forming the dense matrices: with Gram matrices,
/// ⟨B₁A₁, B₂A₂⟩_F = Σ (B₁ᵀB₂) ∘ (A₁A₂ᵀ), so ‖ΔW₁ − ΔW₂‖_F costs O((in + out)·r₁·r₂).
/// </summary>
public static class AdapterComparison
{
    /// <summary>‖ΔW_a − ΔW_b‖_F / ‖ΔW_b‖_F per module; both adapters must cover the same modules and shapes.</summary>
    public static IReadOnlyList<ModuleDifference> Diff(LoraAdapter a, LoraAdapter b, string nameA = "the first adapter", string nameB = "the second adapter")
    {
        foreach (var module in b.ModuleNames)
        {
            if (!a.Modules.ContainsKey(module))
                throw new AdapterFormatException($"module '{module}' is in {nameB} but not in {nameA}");
        }
        var differences = new List<ModuleDifference>(a.ModuleNames.Count);
        foreach (var module in a.ModuleNames)
        {
            if (!b.Modules.TryGetValue(module, out var fb))
                throw new AdapterFormatException($"module '{module}' is in {nameA} but not in {nameB}");
            var fa = a[module];
            if (fa.InFeatures != fb.InFeatures || fa.OutFeatures != fb.OutFeatures)
                throw new AdapterFormatException($"module '{module}' is {fa.OutFeatures}×{fa.InFeatures} in {nameA} but {fb.OutFeatures}×{fb.InFeatures} in {nameB}");
            differences.Add(Compare(module, fa, a.Scale, fb, b.Scale));
        }
        return differences;
    }

    private static ModuleDifference Compare(string module, LoraFactors a, double scaleA, LoraFactors b, double scaleB)
    {
        using var scope = NewDisposeScope();
        var (aA, aB) = (Factor(a.A, scaleA), Factor(a.B, 1));
        var (bA, bB) = (Factor(b.A, scaleB), Factor(b.B, 1));
        double Inner(Tensor b1, Tensor a1, Tensor b2, Tensor a2) => (b1.t().matmul(b2) * a1.matmul(a2.t())).sum().item<double>();
        var normA = Inner(aB, aA, aB, aA);
        var normB = Inner(bB, bA, bB, bA);
        var cross = Inner(aB, aA, bB, bA);
        var difference = Math.Max(0, normA + normB - 2 * cross);
        var relative = normB > 0 ? Math.Sqrt(difference / normB) : Math.Sqrt(difference) == 0 ? 0 : double.PositiveInfinity;
        return new ModuleDifference(module, relative, Math.Sqrt(normA), Math.Sqrt(normB));
    }

    private static Tensor Factor(Matrix m, double scale) => tensor(m.Data, [m.Rows, m.Columns]).to(float64) * scale;
}
