using Federated.Core.Adapters;

namespace Federated.Simulations.Bench;

/// <summary>Adapter shapes of a 1B-parameter Llama (Llama-3.2-1B: hidden 2048, MLP 8192, 8 KV heads of 64), all seven linear layers.</summary>
public static class BenchShapes
{
    public const int Hidden = 2048, Intermediate = 8192, KeyValue = 512, Layers = 16;

    /// <summary>(module, in, out) of one decoder layer.</summary>
    public static IReadOnlyList<(string Module, int In, int Out)> Layer(int layer) =>
    [
        ($"model.layers.{layer}.self_attn.q_proj", Hidden, Hidden),
        ($"model.layers.{layer}.self_attn.k_proj", Hidden, KeyValue),
        ($"model.layers.{layer}.self_attn.v_proj", Hidden, KeyValue),
        ($"model.layers.{layer}.self_attn.o_proj", Hidden, Hidden),
        ($"model.layers.{layer}.mlp.gate_proj", Hidden, Intermediate),
        ($"model.layers.{layer}.mlp.up_proj", Hidden, Intermediate),
        ($"model.layers.{layer}.mlp.down_proj", Intermediate, Hidden),
    ];

    public static Matrix Random(int rows, int columns, Random random)
    {
        var data = new float[rows * columns];
        for (int i = 0; i < data.Length; i++)
            data[i] = (float)(random.NextDouble() - 0.5);
        return new Matrix(rows, columns, data);
    }

    public static LoraAdapter RandomAdapter(IEnumerable<(string Module, int In, int Out)> modules, int rank, double scale, Random random)
        => new(modules.Select(m => new KeyValuePair<string, LoraFactors>(m.Module, new LoraFactors(Random(rank, m.In, random), Random(m.Out, rank, random)))), scale);

    public static string Bytes(double bytes) => bytes switch
    {
        >= 1 << 30 => $"{bytes / (1 << 30):F2} GiB",
        >= 1 << 20 => $"{bytes / (1 << 20):F1} MiB",
        _ => $"{bytes / 1024:F1} KiB",
    };
}
