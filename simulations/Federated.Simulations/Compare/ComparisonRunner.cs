using Federated.Core.Aggregation;
using Federated.Core.Scheduling.Simulation;

namespace Federated.Simulations.Compare;

/// <summary>Progress of a comparison: run <see cref="Run"/> of <see cref="Runs"/> is <see cref="Fraction"/> done.</summary>
public readonly record struct CompareProgress(int Run, int Runs, string Label, double Fraction);

/// <summary>
/// Runs every scheduler × strategy on every seed through the <see cref="VirtualTimeEngine"/> with the policies
/// and aggregation strategies the server uses. A seed fixes the data partition and the clients' speeds, so every
/// pair sees the same clients.
/// </summary>
public static class ComparisonRunner
{
    public static ComparisonResult Run(CompareSettings settings, Action<CompareProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        var runs = new List<RunResult>();
        var total = settings.Seeds.Count * settings.Schedulers.Count * settings.Strategies.Count;
        string training = "";
        double? budget = null;
        foreach (var seed in settings.Seeds)
        {
            var data = ComparisonData.Create(settings, seed);
            foreach (var scheduler in settings.Schedulers)
            {
                foreach (var strategy in settings.Strategies)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var index = runs.Count + 1;
                    var label = $"{scheduler} × {strategy}, seed {seed}";
                    var simulation = settings.SimulationOptions(seed);
                    budget = simulation.MaxVirtualSeconds;
                    void Report(EvaluationPoint point) => progress?.Invoke(new CompareProgress(index, total, label, Fraction(simulation, point)));
                    var (result, points, bytes, kind) = RunOne(settings, data, scheduler, strategy, seed, simulation, Report);
                    training = kind;
                    var applied = result.Tasks.Where(t => t.Outcome == TaskOutcome.Applied).ToList();
                    runs.Add(new RunResult(
                        scheduler,
                        strategy,
                        seed,
                        points,
                        result.EndTime,
                        result.Aggregations.Count,
                        applied.Count,
                        applied.Count == 0 ? 0 : applied.Average(t => (double)t.Staleness!.Value),
                        bytes));
                    progress?.Invoke(new CompareProgress(index, total, label, 1));
                }
            }
        }
        return new ComparisonResult(settings, training, budget, runs, ComparisonResult.Summarise(settings, runs));
    }

    private static (SimulationResult Result, IReadOnlyList<EvaluationPoint> Points, long Bytes, string Kind) RunOne(
        CompareSettings settings, ComparisonData data, string scheduler, string strategy, ulong seed, SimulationOptions simulation, Action<EvaluationPoint> progress)
    {
        ComparisonTraining training = settings.CostModel
            ? new CostModelTraining(settings, data, strategy, progress)
            : new LoraSimulatedTraining(settings, data, AggregationStrategies.Create(strategy), seed, progress);
        try
        {
            training.EvaluateStart();
            var result = new VirtualTimeEngine(simulation, training).Run(settings.SchedulerOptions(scheduler).CreatePolicy());
            return (result, training.Points, training.BytesMoved, training.Kind);
        }
        finally
        {
            (training as IDisposable)?.Dispose();
        }
    }

    private static double Fraction(SimulationOptions simulation, EvaluationPoint point)
        => Math.Clamp(simulation.MaxVirtualSeconds is { } end ? point.VirtualTime / end : (double)point.Version / simulation.MaxAggregations, 0, 1);
}
