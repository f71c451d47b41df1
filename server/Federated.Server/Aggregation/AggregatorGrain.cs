using Federated.Contracts.Aggregation;
using Federated.Core.Adapters;
using Federated.Core.Aggregation;
using Federated.Core.Runtime;
using Federated.Server.Storage;

namespace Federated.Server.Aggregation;

/// <summary>
/// Stacks a round's client updates into the round's global update (see StackingStrategy for the maths)
/// and stores it. Stateless: inputs and output are content-addressed adapters in the store.
/// </summary>
[GrainType("aggregator")]
public sealed partial class AggregatorGrain(AdapterStore store, ILogger<AggregatorGrain> logger) : Grain, IAggregatorGrain
{
    public async Task<AggregationResult> Aggregate(int round, AggregationInput[] inputs)
    {
        var weighted = new List<WeightedAdapter>(inputs.Length);
        foreach (var input in inputs)
        {
            var adapter = await AdapterSerializer.ReadFileAsync(store.PathOf(input.Sha256));
            weighted.Add(new WeightedAdapter(adapter, input.Weight, $"client '{input.ClientId}'"));
        }
        var stacked = await ComputeThread.Run(() => StackingStrategy.Stack(weighted));
        var weights = AggregationWeights.Normalise(weighted);
        var (sha256, size) = await store.WriteAsync(stream => AdapterSerializer.WriteAsync(stream, stacked));
        LogStacked(logger, this.GetPrimaryKeyString(), round, inputs.Length, stacked.Rank, size);
        return new AggregationResult(sha256, size, stacked.Rank, weights);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} round {Round}: stacked {Count} updates into rank {Rank} ({Bytes} bytes)")]
    private static partial void LogStacked(ILogger logger, string jobId, int round, int count, int rank, long bytes);
}
