using Federated.Contracts.Aggregation;
using Federated.Contracts.Jobs;
using Federated.Core.Adapters;
using Federated.Core.Aggregation;
using Federated.Core.Tensors;
using Federated.Server.Hosting;
using Federated.Server.Observability;
using Federated.Server.Storage;
using Federated.Server.Storage.Blobs;
using Microsoft.Extensions.Options;

namespace Federated.Server.Aggregation;

/// <summary>
/// Combines a round's client updates into the round's global update with the job's strategy (stacking by
/// default; see Federated.Core.Aggregation), plus the per-rank views some strategies hand clients. The
/// layers are split into shards aggregated by their own grains (so a cluster spreads the work, and memory
/// holds a shard at a time); the parts are then joined into one stored payload each.
/// </summary>
[GrainType("aggregator")]
public sealed partial class AggregatorGrain(AdapterStore store, IOptions<ServerOptions> options, FederatedMetrics metrics, ILogger<AggregatorGrain> logger) : Grain, IAggregatorGrain
{
    public async Task<AggregationResult> Aggregate(int round, string strategy, AggregationInput[] inputs, int[] clientRanks, double scale)
    {
        if (!(scale > 0) || !double.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"round {round}: the aggregation scale must be a positive finite number");
        var jobId = this.GetPrimaryKeyString();
        var started = metrics.Timestamp();
        var weights = AggregationWeights.Normalise(inputs.Select(i => (i.Weight, $"client '{i.ClientId}'")).ToList());
        AggregationStrategies.Create(strategy); // an unknown name fails here, before any work
        // The shards seek into the updates, so they cannot check hashes as they read: check each once here, and hold
        // it as a local file (a copy, with a backend that keeps no files) while the shards on this silo read it.
        var inputFiles = new List<LocalAdapterFile>();
        var shards = Array.Empty<ShardResult>();
        try
        {
            foreach (var input in inputs.DistinctBy(i => i.Sha256))
                inputFiles.Add(await store.OpenLocalAsync(input.Sha256));
            var modules = await AdapterSerializer.ReadModuleNamesAsync(inputFiles[0].Path);
            var plan = ShardedAggregation.PlanShards(modules, options.Value.AggregationShards);

            shards = new ShardResult[plan.Count];
            var parallelism = options.Value.AggregationParallelism;
            for (int start = 0; start < plan.Count; start += parallelism)
            {
                var batch = Enumerable.Range(start, Math.Min(parallelism, plan.Count - start));
                await Task.WhenAll(batch.Select(async s => shards[s] = await GrainFactory.GetGrain<IAggregationShardGrain>($"{jobId}/{round}/{s}")
                    .Aggregate(strategy, inputs, [.. plan[s]], clientRanks, scale)));
            }
            await Release(inputFiles);

            var (sha256, size) = await Join(shards.Select(s => s.GlobalSha256));
            var views = new List<ClientViewRecord>();
            foreach (var rank in shards.SelectMany(s => s.ViewSha256.Keys).Distinct().Order())
            {
                var (viewSha, viewSize) = await Join(shards.Select(s => s.ViewSha256.GetValueOrDefault(rank, s.GlobalSha256)));
                views.Add(new ClientViewRecord(rank, viewSha, viewSize));
            }
            var rankOfGlobal = shards.Max(s => s.GlobalRank);
            metrics.RoundAggregated(jobId, started);
            LogAggregated(logger, jobId, round, strategy, inputs.Length, plan.Count, rankOfGlobal, size, views.Count);
            return new AggregationResult(sha256, size, rankOfGlobal, weights, [.. views]);
        }
        finally
        {
            await Release(inputFiles);
            // Parts were written as scratch: no history names them. One byte-identical to a kept payload (a one-shard
            // round's part is the joined payload) is kept by that payload's own put, so deleting it here leaves it.
            foreach (var part in shards.Where(s => s is not null).SelectMany(s => s.ViewSha256.Values.Append(s.GlobalSha256)).Distinct())
                await store.DeleteScratchAsync(part);
        }
    }

    private async Task<(string Sha256, long SizeBytes)> Join(IEnumerable<string> parts)
    {
        var files = new List<LocalAdapterFile>();
        try
        {
            foreach (var part in parts)
                files.Add(await store.OpenLocalAsync(part));
            var paths = files.Select(f => f.Path).ToList();
            return await store.WriteAsync(stream => SafeTensorsSlices.ConcatenateAsync(paths, stream));
        }
        finally
        {
            await Release(files);
        }
    }

    private static async Task Release(List<LocalAdapterFile> files)
    {
        foreach (var file in files)
            await file.DisposeAsync();
        files.Clear();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} round {Round}: {Strategy} combined {Count} updates in {Shards} shards into rank {Rank} ({Bytes} bytes), {Views} per-rank views")]
    private static partial void LogAggregated(ILogger logger, string jobId, int round, string strategy, int count, int shards, int rank, long bytes, int views);
}
