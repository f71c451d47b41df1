namespace Federated.Simulations.Compare;

/// <summary>One (scheduler, strategy, seed) run: its evaluations and what its schedule did.</summary>
public sealed record RunResult(
    string Scheduler,
    string Strategy,
    ulong Seed,
    IReadOnlyList<EvaluationPoint> Points,
    double EndTime,
    int Aggregations,
    int TasksApplied,
    double MeanStaleness,
    long BytesMoved)
{
    /// <summary>Virtual time of the first evaluation at or above <paramref name="target"/> token accuracy; null if never.</summary>
    public double? TimeToReach(double target) => Points.FirstOrDefault(p => p.TokenAccuracy >= target)?.VirtualTime;

    public EvaluationPoint Final => Points[^1];
}

/// <summary>A mean and the run-to-run spread (sample standard deviation; 0 for one run) over seeds.</summary>
public sealed record Stat(double Mean, double Spread, int Count)
{
    public static Stat? Of(IEnumerable<double> values)
    {
        var list = values.ToList();
        if (list.Count == 0)
            return null;
        var mean = list.Average();
        var spread = list.Count < 2 ? 0 : Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / (list.Count - 1));
        return new Stat(mean, spread, list.Count);
    }
}

/// <summary>
/// One (scheduler, strategy) over all seeds: how many runs reached the target, their time to it, and the
/// paired ratio of that time to synchronous rounds' on the same seed and strategy.
/// </summary>
public sealed record SummaryRow(
    string Scheduler,
    string Strategy,
    int Runs,
    int Reached,
    Stat? TimeToTarget,
    Stat? TimeRatioToSynchronous,
    Stat FinalAccuracy,
    Stat FinalExactMatch,
    Stat FinalLoss,
    Stat BytesMoved,
    Stat MeanStaleness,
    Stat Aggregations);

/// <summary>Everything `federated compare` measured, as written to results.json.</summary>
public sealed record ComparisonResult(
    CompareSettings Settings,
    string Training,
    double? VirtualTimeBudget,
    IReadOnlyList<RunResult> Runs,
    IReadOnlyList<SummaryRow> Summary)
{
    public static IReadOnlyList<SummaryRow> Summarise(CompareSettings settings, IReadOnlyList<RunResult> runs)
    {
        var rows = new List<SummaryRow>();
        foreach (var strategy in settings.Strategies)
        {
            foreach (var scheduler in settings.Schedulers)
            {
                var mine = runs.Where(r => r.Scheduler == scheduler && r.Strategy == strategy).ToList();
                if (mine.Count == 0)
                    continue;
                var times = mine.Select(r => r.TimeToReach(settings.TargetAccuracy)).ToList();
                var ratios = mine.Select(r =>
                {
                    var sync = runs.FirstOrDefault(s => s.Scheduler == "synchronous" && s.Strategy == strategy && s.Seed == r.Seed)?.TimeToReach(settings.TargetAccuracy);
                    return r.TimeToReach(settings.TargetAccuracy) is { } t && sync is > 0 ? t / sync : (double?)null;
                }).Where(x => x is not null).Select(x => x!.Value);
                rows.Add(new SummaryRow(
                    scheduler,
                    strategy,
                    mine.Count,
                    times.Count(t => t is not null),
                    Stat.Of(times.Where(t => t is not null).Select(t => t!.Value)),
                    Stat.Of(ratios),
                    Stat.Of(mine.Select(r => r.Final.TokenAccuracy))!,
                    Stat.Of(mine.Select(r => r.Final.ExactMatch))!,
                    Stat.Of(mine.Select(r => r.Final.Loss))!,
                    Stat.Of(mine.Select(r => (double)r.BytesMoved))!,
                    Stat.Of(mine.Select(r => r.MeanStaleness))!,
                    Stat.Of(mine.Select(r => (double)r.Aggregations))!));
            }
        }
        return rows;
    }
}
