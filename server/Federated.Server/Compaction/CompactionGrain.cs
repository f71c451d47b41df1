using System.Security.Cryptography;
using System.Text;
using Federated.Contracts.Compaction;
using Federated.Contracts.Errors;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Core.Adapters;
using Federated.Core.Aggregation;
using Federated.Core.Runtime;
using Federated.Server.Hosting;
using Federated.Server.Jobs;
using Federated.Server.Storage;

namespace Federated.Server.Compaction;

/// <summary>
/// Compacts runs of a job's global updates for clients that are several rounds behind (late joiners,
/// clients back from an outage): the sum of the updates is re-factorised exactly (AdapterCompaction) and
/// stored once per distinct run, so every lagging client downloads one payload of bounded rank.
/// </summary>
[GrainType("compaction")]
public sealed partial class CompactionGrain(
    [PersistentState("compaction", StorageNames.State)] IPersistentState<CompactionState> state,
    AdapterStore store,
    ILogger<CompactionGrain> logger) : Grain, ICompactionGrain
{
    public async Task<CatchUp> GetCatchUp(int rank, int afterRound, int throughRound)
    {
        if (rank < 1)
            throw FederatedException.Invalid($"rank must be positive, got {rank}");
        var job = await GrainFactory.GetGrain<IJobGrain>(this.GetPrimaryKeyString()).GetSnapshot();
        return await Compact(job, JobHistory.UpdatesFor(job, rank), $"rank {rank}", afterRound, throughRound);
    }

    public async Task<CatchUp> GetGlobal(int throughRound)
    {
        var job = await GrainFactory.GetGrain<IJobGrain>(this.GetPrimaryKeyString()).GetSnapshot();
        if (throughRound == 0)
            throughRound = job.CompletedRounds;
        if (throughRound == 0)
            throw FederatedException.Precondition($"job '{job.JobId}' has no completed round yet, so no global adapter");
        var chain = job.History.Select(r => new GlobalUpdateRef(r.Round, r.UpdateSha256, r.UpdateBytes, r.StackedRank)).ToArray();
        return await Compact(job, chain, "the global model", 0, throughRound);
    }

    private async Task<CatchUp> Compact(JobSnapshot job, GlobalUpdateRef[] history, string purpose, int afterRound, int throughRound)
    {
        var jobId = job.JobId;
        if (afterRound < 0 || throughRound <= afterRound)
            throw FederatedException.Invalid($"after_round {afterRound} and through_round {throughRound}: need 0 ≤ after_round < through_round");
        if (throughRound > job.CompletedRounds)
            throw FederatedException.Precondition($"job '{jobId}' has completed {job.CompletedRounds} rounds; cannot catch up through round {throughRound}");

        var chain = history.Where(u => u.Round > afterRound && u.Round <= throughRound).OrderBy(u => u.Round).ToList();
        var budget = job.Config.CompactionRankBudget;
        var key = Key(chain.Select(u => u.Sha256), budget);
        if (state.State.ByKey.TryGetValue(key, out var cached) && await store.ContainsAsync(cached.Sha256))
            return cached;

        var updates = new List<LoraAdapter>(chain.Count);
        foreach (var update in chain)
            updates.Add(await store.ReadAdapterAsync(update.Sha256));
        var result = await ComputeThread.Run(() => AdapterCompaction.Compact(updates, new CompactionOptions(RankBudget: budget)));
        var (sha256, size) = await store.WriteAsync(stream => AdapterSerializer.WriteAsync(stream, result.Adapter));
        var catchUp = new CatchUp
        {
            Sha256 = sha256,
            SizeBytes = size,
            Rank = result.OutputRank,
            InputRank = chain.Sum(u => u.Rank),
            RelativeError = result.MaxRelativeError,
            Covers = chain.Select(u => u.Sha256).ToArray(),
            ThroughRound = throughRound,
        };
        state.State.ByKey[key] = catchUp;
        await state.WriteStateAsync();
        LogCompacted(logger, jobId, afterRound + 1, throughRound, purpose, catchUp.InputRank, catchUp.Rank, catchUp.RelativeError, size);
        return catchUp;
    }

    private static string Key(IEnumerable<string> hashes, int budget)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes($"{budget}:{string.Join(',', hashes)}")));

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: compacted rounds {From}..{Through} for {Purpose}: rank {InputRank} → {OutputRank} (relative error {Error:E2}, {Bytes} bytes)")]
    private static partial void LogCompacted(ILogger logger, string jobId, int from, int through, string purpose, int inputRank, int outputRank, double error, long bytes);
}
