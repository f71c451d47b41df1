using System.Text.RegularExpressions;
using Federated.Core.Adapters;

namespace Federated.Core.Aggregation;

/// <summary>One client update on disk and its aggregation weight.</summary>
public sealed record StoredUpdate(string Path, double Weight, string Source);

/// <summary>Where one shard's outputs went: its part of the global update (with that part's rank) and of each per-rank view.</summary>
public sealed record ShardOutput(string Global, int GlobalRank, IReadOnlyDictionary<int, string> Views);

/// <summary>
/// Aggregation a shard of layers at a time. Every strategy works module by module, so the modules can be
/// split into shards (whole decoder layers together) that are aggregated independently — on different
/// grains, and so different silos — each reading only its modules' factors from the stored updates. Memory
/// is one shard's inputs and outputs, not the whole round's; the parts are then joined by copying bytes.
/// </summary>
public static partial class ShardedAggregation
{
    /// <summary>Splits modules into at most <paramref name="shards"/> contiguous groups of whole layers.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> PlanShards(IReadOnlyList<string> modules, int shards)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        var layers = modules.GroupBy(LayerOf).Select(g => g.ToList()).ToList();
        var count = Math.Min(shards, layers.Count);
        var plan = new List<IReadOnlyList<string>>(count);
        for (int s = 0; s < count; s++)
        {
            int start = layers.Count * s / count, end = layers.Count * (s + 1) / count;
            plan.Add(layers.Skip(start).Take(end - start).SelectMany(l => l).ToList());
        }
        return plan;
    }

    /// <summary>Aggregates the given modules of every update: the strategy's outcome for this shard.</summary>
    public static async Task<AggregationOutcome> AggregateShardAsync(IAggregationStrategy strategy, IReadOnlyList<StoredUpdate> updates, IReadOnlyList<string> modules, IReadOnlyCollection<int> clientRanks, CancellationToken cancellationToken = default)
    {
        var inputs = new List<WeightedAdapter>(updates.Count);
        foreach (var update in updates)
            inputs.Add(new WeightedAdapter(await AdapterSerializer.ReadModulesAsync(update.Path, modules, cancellationToken).ConfigureAwait(false), update.Weight, update.Source));
        return strategy.Aggregate(inputs, clientRanks);
    }

    /// <summary>
    /// Aggregates one shard and stores its outputs through <paramref name="write"/> (which returns where, or
    /// under which hash, a payload went), the mix multiplied by <paramref name="scale"/> (see <see cref="AggregationOutcome.Scaled"/>). Stacking streams from the stored updates to the output
    /// (<see cref="StreamingStacking"/>); the baselines aggregate the shard in memory.
    /// </summary>
    public static async Task<ShardOutput> WriteShardAsync(IAggregationStrategy strategy, IReadOnlyList<StoredUpdate> updates, IReadOnlyList<string> modules, IReadOnlyCollection<int> clientRanks, Func<Func<Stream, Task>, Task<string>> write, double scale = 1.0, CancellationToken cancellationToken = default)
    {
        if (strategy is StackingStrategy)
        {
            int rank = 0;
            var stacked = await write(async stream => rank = await new StreamingStacking().WriteAsync(updates, modules, stream, scale, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            return new ShardOutput(stacked, rank, new Dictionary<int, string>());
        }
        var outcome = await AggregateShardAsync(strategy, updates, modules, clientRanks, cancellationToken).ConfigureAwait(false);
        if (scale != 1.0)
            outcome = outcome.Scaled(scale);
        var global = await write(stream => AdapterSerializer.WriteAsync(stream, outcome.Global, cancellationToken)).ConfigureAwait(false);
        var views = new Dictionary<int, string>();
        foreach (var (rank, view) in outcome.ClientViews)
            views[rank] = await write(stream => AdapterSerializer.WriteAsync(stream, view, cancellationToken)).ConfigureAwait(false);
        return new ShardOutput(global, outcome.Global.Rank, views);
    }

    /// <summary>"model.layers.12.mlp.up_proj" → "12"; modules outside the decoder layers are each their own group.</summary>
    private static string LayerOf(string module)
    {
        var match = LayerPattern().Match(module);
        return match.Success ? match.Groups[1].Value : module;
    }

    [GeneratedRegex(@"(?:^|\.)layers\.(\d+)\.")]
    private static partial Regex LayerPattern();
}
