using Federated.Core.Adapters;

namespace Federated.Fuzz.Targets;

/// <summary>The small adapter the seeds are made of: two modules at rank 2 with scale 2.</summary>
internal static class Adapters
{
    public const int Rank = 2;
    public const double Scale = 2.0;

    public static AdapterLayout Layout() => new([("q", 3, 4), ("v", 3, 2)]);

    public static LoraAdapter Small()
    {
        var modules = Layout().ModuleNames.Select(module =>
        {
            var (inFeatures, outFeatures) = Layout()[module];
            var a = new Matrix(Rank, inFeatures, [.. Enumerable.Range(0, Rank * inFeatures).Select(i => i * 0.25f)]);
            var b = new Matrix(outFeatures, Rank, [.. Enumerable.Range(0, outFeatures * Rank).Select(i => -i * 0.5f)]);
            return new KeyValuePair<string, LoraFactors>(module, new LoraFactors(a, b));
        });
        return new LoraAdapter(modules, Scale);
    }
}
