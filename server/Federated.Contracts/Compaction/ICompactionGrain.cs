namespace Federated.Contracts.Compaction;

/// <summary>Serves late and lagging clients one compacted update in place of many (key: job id).</summary>
public interface ICompactionGrain : IGrainWithStringKey
{
    /// <summary>The compacted sum of the updates a client of <paramref name="rank"/> merges for rounds after_round+1 .. through_round.</summary>
    [ResponseTimeout("01:00:00")] // compacting many rounds of a big model is minutes of SVDs (see IAggregatorGrain.Aggregate)
    Task<CatchUp> GetCatchUp(int rank, int afterRound, int throughRound);

    /// <summary>The compacted sum of the job's global updates of rounds 1 .. through_round: the global model's adapter.</summary>
    [ResponseTimeout("01:00:00")]
    Task<CatchUp> GetGlobal(int throughRound);
}

/// <summary>A stored compacted update and what it stands for.</summary>
[GenerateSerializer]
[Immutable]
public sealed record CatchUp
{
    [Id(0)]
    public required string Sha256 { get; init; }

    [Id(1)]
    public required long SizeBytes { get; init; }

    [Id(2)]
    public required int Rank { get; init; }

    [Id(3)]
    public required int InputRank { get; init; }

    [Id(4)]
    public required double RelativeError { get; init; }

    /// <summary>The covered updates' hashes, oldest first.</summary>
    [Id(5)]
    public required string[] Covers { get; init; }

    [Id(6)]
    public required int ThroughRound { get; init; }
}
