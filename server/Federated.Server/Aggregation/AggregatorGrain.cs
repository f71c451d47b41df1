using Federated.Contracts.Aggregation;
using Federated.Contracts.Jobs;
using Federated.Core.Adapters;
using Federated.Core.Aggregation;
using Federated.Core.Runtime;
using Federated.Server.Storage;

namespace Federated.Server.Aggregation;

/// <summary>
/// Combines a round's client updates into the round's global update with the job's strategy (stacking by
/// default; see Federated.Core.Aggregation) and stores it, with the per-rank views some strategies hand
/// clients. Stateless: inputs and outputs are content-addressed adapters in the store.
/// </summary>
[GrainType("aggregator")]
public sealed partial class AggregatorGrain(AdapterStore store, ILogger<AggregatorGrain> logger) : Grain, IAggregatorGrain
{
    public async Task<AggregationResult> Aggregate(int round, string strategy, AggregationInput[] inputs, int[] clientRanks)
    {
        var aggregation = AggregationStrategies.Create(strategy);
        var weighted = new List<WeightedAdapter>(inputs.Length);
        foreach (var input in inputs)
        {
            var adapter = await AdapterSerializer.ReadFileAsync(store.PathOf(input.Sha256));
            weighted.Add(new WeightedAdapter(adapter, input.Weight, $"client '{input.ClientId}'"));
        }
        var outcome = await ComputeThread.Run(() => aggregation.Aggregate(weighted, clientRanks));
        var weights = AggregationWeights.Normalise(weighted);
        var (sha256, size) = await store.WriteAsync(stream => AdapterSerializer.WriteAsync(stream, outcome.Global));
        var views = new List<ClientViewRecord>(outcome.ClientViews.Count);
        foreach (var (rank, view) in outcome.ClientViews.OrderBy(v => v.Key))
        {
            var (viewSha, viewSize) = await store.WriteAsync(stream => AdapterSerializer.WriteAsync(stream, view));
            views.Add(new ClientViewRecord(rank, viewSha, viewSize));
        }
        LogAggregated(logger, this.GetPrimaryKeyString(), round, strategy, inputs.Length, outcome.Global.Rank, size, views.Count);
        return new AggregationResult(sha256, size, outcome.Global.Rank, weights, [.. views]);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} round {Round}: {Strategy} combined {Count} updates into rank {Rank} ({Bytes} bytes), {Views} per-rank views")]
    private static partial void LogAggregated(ILogger logger, string jobId, int round, string strategy, int count, int rank, long bytes, int views);
}
