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
    /// <remarks>Runs one after another on the calling thread: torch's thread settings are per thread, and runs side by side on shared cores were far slower.</remarks>
    /// <param name="warning">Told when a run failed in native code and is run again (runs are deterministic, so the rerun gives what the run would have).</param>
    public static ComparisonResult Run(CompareSettings settings, Action<CompareProgress>? progress = null, Action<string>? warning = null, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        var jobs = new List<(ulong Seed, ComparisonData Data, string Scheduler, string Strategy)>();
        foreach (var seed in settings.Seeds)
        {
            var data = ComparisonData.Create(settings, seed);
            foreach (var scheduler in settings.Schedulers)
            {
                foreach (var strategy in settings.Strategies)
                    jobs.Add((seed, data, scheduler, strategy));
            }
        }
        var runs = new RunResult[jobs.Count];
        var kinds = new string[jobs.Count];
        void Report(CompareProgress p) => progress?.Invoke(p);
        for (var index = 0; index < jobs.Count; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (seed, data, scheduler, strategy) = jobs[index];
            var label = $"{scheduler} × {strategy}, seed {seed}";
            var simulation = settings.SimulationOptions(seed);
            var (result, points, bytes, kind) = RunWithRetry(() => RunOne(settings, data, scheduler, strategy, seed, simulation,
                point => Report(new CompareProgress(index + 1, jobs.Count, label, Fraction(simulation, point)))), label, warning);
            kinds[index] = kind;
            var applied = result.Tasks.Where(t => t.Outcome == TaskOutcome.Applied).ToList();
            runs[index] = new RunResult(
                scheduler,
                strategy,
                seed,
                points,
                result.EndTime,
                result.Aggregations.Count,
                applied.Count,
                applied.Count == 0 ? 0 : applied.Average(t => (double)t.Staleness!.Value),
                bytes);
            Report(new CompareProgress(index + 1, jobs.Count, label, 1));
        }
        var budget = settings.SimulationOptions(settings.Seeds[0]).MaxVirtualSeconds;
        return new ComparisonResult(settings, kinds[0], budget, runs, ComparisonResult.Summarise(settings, runs));
    }

    private static T RunWithRetry<T>(Func<T> run, string label, Action<string>? warning)
    {
        try
        {
            return run();
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            warning?.Invoke($"{label}: libtorch failed ({e.Message.Split('\n')[0]}); running it again");
            return run();
        }
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
