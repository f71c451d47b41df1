using Federated.Core.Adapters;
using Federated.Core.Randomness;

namespace Federated.Core.Tests.Aggregation;

/// <summary>Random adapters over a fixed set of module shapes, for aggregation tests.</summary>
internal static class RandomAdapters
{
    public static readonly (string Module, int In, int Out)[] Shapes =
    [
        ("model.layers.0.self_attn.q_proj", 48, 48),
        ("model.layers.0.self_attn.k_proj", 48, 24),
        ("model.layers.0.mlp.down_proj", 96, 48),
    ];

    public static LoraAdapter Create(int rank, double scale, ulong seed)
    {
        var random = new DeterministicRandom(seed);
        var modules = Shapes.Select(s => new KeyValuePair<string, LoraFactors>(s.Module, new LoraFactors(
            Fill(new Matrix(rank, s.In), random),
            Fill(new Matrix(s.Out, rank), random))));
        return new LoraAdapter(modules, scale);
    }

    private static Matrix Fill(Matrix matrix, DeterministicRandom random)
    {
        for (int i = 0; i < matrix.Data.Length; i++)
            matrix.Data[i] = (float)random.NextGaussian();
        return matrix;
    }
}
