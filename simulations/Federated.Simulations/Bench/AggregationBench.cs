using System.Diagnostics;
using System.Globalization;
using Federated.Core.Adapters;
using Federated.Core.Aggregation;
using Federated.Core.Tensors;
using Spectre.Console;
using static Federated.Simulations.Bench.BenchMeasure;
using static TorchSharp.torch;

namespace Federated.Simulations.Bench;

/// <summary>
/// Aggregation figures: stacking bandwidth against a plain copy of the same bytes, compaction time against
/// its flop count at this machine's measured GEMM rate, and memory while aggregating stored uploads.
/// </summary>
public sealed class AggregationBench : IBenchSection
{
    public string Name => "aggregation";

    public string Description => "stacking vs memory bandwidth, compaction vs its SVD cost, memory while aggregating uploads";

    public async Task RunAsync(bool quick, CancellationToken cancellationToken)
    {
        StackingThroughput(clients: 64, rank: 16, layers: quick ? 2 : BenchShapes.Layers);
        Compaction(quick);
        await AggregationMemory(clients: quick ? 8 : 32, rank: 16, layers: quick ? 2 : 8, cancellationToken);
    }

    /// <summary>Bytes the stacking writes ÷ its time, over the same bytes copied by memcpy ÷ the copy's time.</summary>
    private static void StackingThroughput(int clients, int rank, int layers)
    {
        var random = new Random(1);
        double stackSeconds = 0, copySeconds = 0;
        long bytes = 0;
        for (int layer = 0; layer < layers; layer++)
        {
            foreach (var (module, inFeatures, outFeatures) in BenchShapes.Layer(layer))
            {
                var factors = Enumerable.Range(0, clients).Select(_ => new LoraFactors(BenchShapes.Random(rank, inFeatures, random), BenchShapes.Random(outFeatures, rank, random))).ToList();
                var coefficients = Enumerable.Range(0, clients).Select(k => 1f / clients).ToArray();
                var sources = factors.SelectMany(f => new[] { f.A.Data, f.B.Data }).ToList();
                var total = sources.Sum(s => s.Length);
                bytes += total * sizeof(float);
                stackSeconds += Best(() => StackingStrategy.StackModule(factors, coefficients, inFeatures, outFeatures));
                copySeconds += Best(() =>
                {
                    var destination = new float[total];
                    int offset = 0;
                    foreach (var source in sources)
                    {
                        source.CopyTo(destination, offset);
                        offset += source.Length;
                    }
                    return destination;
                });
            }
        }
        var table = new Table().AddColumns("Case", "Bytes written", "Stacking", "Plain copy", "Ratio (target ≥ 0.5)");
        table.AddRow($"{clients} clients × rank {rank}, {layers} layers of a 1B Llama (all 7 linear)", BenchShapes.Bytes(bytes),
            $"{bytes / stackSeconds / 1e9:F2} GB/s", $"{bytes / copySeconds / 1e9:F2} GB/s", Ratio(copySeconds / stackSeconds, 0.5));
        AnsiConsole.Write(table);
    }

    /// <summary>Compaction's measured time against its flop count at the measured float64 GEMM rate.</summary>
    private static void Compaction(bool quick)
    {
        var gemm = GemmFlopsPerSecond(float64, quick ? 512 : 1024, repeats: 5);
        var table = new Table().AddColumns("Case", "Rank in", "Rank out", "Relative error", "Time", "Cost bound at GEMM rate", "Time ÷ bound");
        var random = new Random(2);
        int outFeatures = BenchShapes.Hidden, inFeatures = quick ? BenchShapes.Hidden : BenchShapes.Intermediate;
        var module = new[] { ("model.layers.0.mlp.down_proj", inFeatures, outFeatures) };
        var rounds = quick ? 4 : 10;
        var full = Enumerable.Range(0, rounds).Select(_ => BenchShapes.RandomAdapter(module, 64, 1.0, random)).ToList();
        var repeated = Enumerable.Repeat(BenchShapes.RandomAdapter(module, 16, 1.0, random), rounds).ToList();
        var cases = new (string Name, IReadOnlyList<LoraAdapter> Updates, CompactionOptions Options)[]
        {
            ($"{rounds} rounds of rank 64 on {outFeatures}×{inFeatures}, exact", full, CompactionOptions.Exact),
            ($"{rounds} copies of one rank-16 update, exact", repeated, CompactionOptions.Exact),
            ($"{rounds} rounds of rank 64, budget 32", full, new CompactionOptions(RankBudget: 32)),
        };
        foreach (var (name, updates, options) in cases)
        {
            CompactionResult? result = null;
            var seconds = Best(() => result = AdapterCompaction.Compact(updates, options), repeats: 2);
            double r = updates.Sum(u => u.Rank), k = result!.OutputRank;
            // Householder QR of m×R ≈ 2mR² − (2/3)R³ each, the R×R core product 2R³, its SVD ≈ 22R³, the new factors 2(m+n)Rk.
            var flops = 2 * (inFeatures + outFeatures) * r * r - 4.0 / 3 * r * r * r + 2 * r * r * r + 22 * r * r * r + 2 * (inFeatures + outFeatures) * r * k;
            var bound = flops / gemm;
            table.AddRow(name, ((int)r).ToString(CultureInfo.InvariantCulture), result.OutputRank.ToString(CultureInfo.InvariantCulture), result.MaxRelativeError.ToString("E2", CultureInfo.InvariantCulture),
                $"{seconds * 1e3:F1} ms", $"{bound * 1e3:F1} ms", (seconds / bound).ToString("F2", CultureInfo.InvariantCulture));
        }
        AnsiConsole.MarkupLine($"float64 GEMM rate measured here: {gemm / 1e9:F1} GFLOP/s");
        AnsiConsole.Write(table);
    }

    /// <summary>Peak resident memory above the starting point while aggregating stored uploads shard by shard, as the server does.</summary>
    private static async Task AggregationMemory(int clients, int rank, int layers, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("federated-bench-").FullName;
        try
        {
            var random = new Random(3);
            var modules = Enumerable.Range(0, layers).SelectMany(BenchShapes.Layer).ToList();
            var updates = new List<StoredUpdate>();
            long uploaded = 0;
            for (int k = 0; k < clients; k++)
            {
                var path = Path.Combine(folder, $"update-{k}.safetensors");
                await AdapterSerializer.WriteFileAsync(path, BenchShapes.RandomAdapter(modules, rank, 2.0, random), cancellationToken);
                uploaded += new FileInfo(path).Length;
                updates.Add(new StoredUpdate(path, 100 + k, $"client {k}"));
            }
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();

            using var sampler = new PeakSampler(ResidentMemory.All);
            var clock = Stopwatch.StartNew();
            var plan = ShardedAggregation.PlanShards(modules.Select(m => m.Module).ToList(), 4);
            var parts = new List<string>();
            foreach (var shard in plan)
            {
                var part = Path.Combine(folder, $"part-{parts.Count}.safetensors");
                await ShardedAggregation.WriteShardAsync(new StackingStrategy(), updates, shard, [rank], async write =>
                {
                    await using var file = File.Create(part);
                    await write(file);
                    return part;
                }, cancellationToken: cancellationToken);
                parts.Add(part);
            }
            var output = Path.Combine(folder, "global.safetensors");
            await using (var stream = File.Create(output))
                await SafeTensorsSlices.ConcatenateAsync(parts, stream, cancellationToken);
            var seconds = clock.Elapsed.TotalSeconds;
            var peak = Math.Max(0, sampler.Stop() - sampler.Start);

            var table = new Table().AddColumns("Case", "Uploads (total)", "Global update", "Peak memory above start", "Ratio (target ≤ 1.2)", "Time");
            table.AddRow($"{clients} uploads × rank {rank}, {layers} layers of a 1B Llama, {plan.Count} shards", BenchShapes.Bytes(uploaded), BenchShapes.Bytes(new FileInfo(output).Length),
                BenchShapes.Bytes(peak), Ratio((double)peak / uploaded, 1.2, lowerIsBetter: true), $"{seconds:F1} s");
            AnsiConsole.Write(table);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
