namespace Federated.Core.Scheduling.Ledger;

/// <summary>An aggregation ready to run: global version <see cref="Version"/> from these updates and absolute weights.</summary>
public sealed record LedgerAggregation<TUpdate>(long Version, long? GroupId, IReadOnlyList<LedgerContribution<TUpdate>> Contributions)
    where TUpdate : class
{
    public double TotalWeight => Contributions.Sum(c => c.Weight);
}

public sealed record LedgerContribution<TUpdate>(LedgerTask<TUpdate> Task, double Weight, long Staleness)
    where TUpdate : class;

/// <summary>What a client reported of its training time for a task (0 or non-finite: not reported).</summary>
public readonly record struct UpdateTiming(double SecondsPerStep, double ComputeSeconds)
{
    public double? ComputeSecondsPerStep(int steps)
    {
        if (SecondsPerStep > 0 && double.IsFinite(SecondsPerStep))
            return SecondsPerStep;
        if (steps > 0 && ComputeSeconds > 0 && double.IsFinite(ComputeSeconds))
            return ComputeSeconds / steps;
        return null;
    }
}

/// <summary>The ledger refuses a request about a task: it is closed, unknown, or not the client's (a precondition failure).</summary>
public sealed class TaskRefusedException(string message) : Exception(message);
