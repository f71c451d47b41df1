namespace Federated.Core.Scheduling.Ledger;

/// <summary>
/// The parts of a job's configuration the ledger applies around its policy. The policy's clock is seconds since
/// <see cref="Origin"/> (the job's creation), read from the ledger's <see cref="TimeProvider"/>.
/// </summary>
public sealed record LedgerOptions
{
    public required string JobId { get; init; }

    public required DateTimeOffset Origin { get; init; }

    /// <summary>Ranks handed out in turn, by each client's first request, to clients without a fixed or policy-chosen rank.</summary>
    public required IReadOnlyList<int> Ranks { get; init; }

    /// <summary>Fixed ranks per client; they win over the policy's rank rule and the cycling list.</summary>
    public IReadOnlyDictionary<string, int> ClientRanks { get; init; } = new Dictionary<string, int>();

    /// <summary>A task's LoRA alpha is this times its rank.</summary>
    public double LoraAlphaPerRank { get; init; } = 2.0;

    /// <summary>A task not answered within this time of hand-out expires (a synchronous round's deadline may come first).</summary>
    public required TimeSpan TaskTimeout { get; init; }

    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(JobId);
        if (Ranks.Count == 0 || Ranks.Any(r => r < 1))
            throw new ArgumentException($"job '{JobId}': ranks must be a non-empty list of ranks ≥ 1");
        if (ClientRanks.Values.Any(r => r < 1))
            throw new ArgumentException($"job '{JobId}': client ranks must be ≥ 1");
        if (!(LoraAlphaPerRank > 0 && double.IsFinite(LoraAlphaPerRank)))
            throw new ArgumentException($"job '{JobId}': alpha per rank must be a finite number > 0, got {LoraAlphaPerRank}");
        if (TaskTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"job '{JobId}': the task timeout must be positive, got {TaskTimeout}");
    }
}
