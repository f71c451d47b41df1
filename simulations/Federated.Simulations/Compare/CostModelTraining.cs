using Federated.Core.Aggregation;
using Federated.Core.Scheduling;
using Federated.Core.Scheduling.Simulation;

namespace Federated.Simulations.Compare;

/// <summary>
/// No training, for scale runs: the global model's "progress" P grows by Σ w_k · min(1, q_k / Q_max) per
/// aggregation (w_k the policy's weight, q_k the task's steps), and held-out metrics are made up from it:
/// token accuracy = A∞·(1 − e^(−P/τ)), loss = L∞ + (L0 − L∞)·e^(−P/τ), exact match = accuracy^5. Nothing is
/// measured; only the schedule, staleness and bytes are real. Download sizes follow each strategy's rank:
/// stacking Σ r_k, FedIT max r_k, zero-padding and FlexLoRA the client's own rank.
/// </summary>
public sealed class CostModelTraining(CompareSettings settings, ComparisonData data, string strategy, Action<EvaluationPoint>? progress = null)
    : ComparisonTraining(settings, progress)
{
    private const double FinalAccuracy = 0.9, Tau = 6, InitialLoss = 5.5, FinalLoss = 0.5;
    private readonly Dictionary<long, int> _rankOf = [];
    private readonly Dictionary<long, int> _stepsOf = [];
    private readonly List<int> _stackedRanks = [];
    private double _progress;

    public override string Kind => "cost model (no training; metrics are a saturating function of applied work, not measured)";

    protected override long TrainUpdate(SimulatedTask task, int rank)
    {
        _rankOf[task.Task.TaskId] = rank;
        _stepsOf[task.Task.TaskId] = task.Task.LocalSteps;
        return data.Shards[task.ClientIndex].Count;
    }

    protected override (double Loss, double TokenAccuracy, double ExactMatch) ApplyAndEvaluate(AggregationOrder order)
    {
        _stackedRanks.Add(strategy switch
        {
            AggregationStrategies.Stacking => order.Updates.Sum(u => _rankOf[u.TaskId]),
            _ => order.Updates.Max(u => _rankOf[u.TaskId]),
        });
        foreach (var update in order.Updates)
        {
            _progress += update.Weight * Math.Min(1.0, (double)_stepsOf[update.TaskId] / Settings.MaxSteps);
        }
        return Metrics();
    }

    protected override (double Loss, double TokenAccuracy, double ExactMatch) EvaluateInitial() => Metrics();

    protected override long DownloadBytes(long version, int rank) => strategy switch
    {
        AggregationStrategies.ZeroPadding or AggregationStrategies.FlexLora => Layout.DataBytes(rank),
        _ => Layout.DataBytes(_stackedRanks[(int)version - 1]),
    };

    private (double, double, double) Metrics()
    {
        var remaining = Math.Exp(-_progress / Tau);
        var accuracy = FinalAccuracy * (1 - remaining);
        return (FinalLoss + (InitialLoss - FinalLoss) * remaining, accuracy, Math.Pow(accuracy, 5));
    }
}
