namespace Federated.Contracts.Jobs;

/// <summary>What a client reports of its local training along with an update.</summary>
[GenerateSerializer]
[Immutable]
public sealed record UpdateStats
{
    [Id(0)]
    public int Steps { get; init; }

    [Id(1)]
    public double FirstLoss { get; init; }

    [Id(2)]
    public double MeanLoss { get; init; }

    [Id(3)]
    public double FinalLoss { get; init; }

    /// <summary>Time spent computing, without network time.</summary>
    [Id(4)]
    public double ComputeSeconds { get; init; }

    [Id(5)]
    public double SecondsPerStep { get; init; }

    [Id(6)]
    public long Tokens { get; init; }

    [Id(7)]
    public double DownloadSeconds { get; init; }
}
