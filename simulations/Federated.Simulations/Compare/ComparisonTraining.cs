using Federated.Core.Adapters;
using Federated.Core.Model;
using Federated.Core.Scheduling;
using Federated.Core.Scheduling.Simulation;

namespace Federated.Simulations.Compare;

/// <summary>
/// What real training and the cost model share: bytes moved and one <see cref="EvaluationPoint"/> per
/// aggregation. A task's client first downloads every global update it lacks up to the task's start version
/// (at the rank it trains at), then uploads its own adapter; both are counted when the update arrives.
/// </summary>
public abstract class ComparisonTraining : ISimulatedTraining
{
    private readonly long[] _clientVersion;
    private readonly List<EvaluationPoint> _points = [];
    private readonly Action<EvaluationPoint>? _progress;

    protected ComparisonTraining(CompareSettings settings, Action<EvaluationPoint>? progress)
    {
        Settings = settings;
        Layout = TargetModules.Layout(BuiltinModels.Config(settings.Model), TargetModules.All);
        _clientVersion = new long[settings.Clients];
        _progress = progress;
    }

    /// <summary>Stated in every output: real LoRA training or the cost model.</summary>
    public abstract string Kind { get; }

    public IReadOnlyList<EvaluationPoint> Points => _points;

    public long BytesMoved { get; private set; }

    protected CompareSettings Settings { get; }

    protected AdapterLayout Layout { get; }

    public long Train(SimulatedTask task)
    {
        var rank = task.Task.Rank ?? throw new InvalidOperationException($"task {task.Task.TaskId} has no rank; the ledger assigns one to every task");
        for (var v = _clientVersion[task.ClientIndex] + 1; v <= task.Task.StartVersion; v++)
            BytesMoved += DownloadBytes(v, rank);
        _clientVersion[task.ClientIndex] = Math.Max(_clientVersion[task.ClientIndex], task.Task.StartVersion);
        BytesMoved += Layout.DataBytes(rank);
        return TrainUpdate(task, rank);
    }

    public void Aggregate(AggregationOrder order)
    {
        var (loss, accuracy, exact) = ApplyAndEvaluate(order);
        var staleness = order.Updates.Count == 0 ? 0 : order.Updates.Average(u => (double)u.Staleness);
        var point = new EvaluationPoint(order.At, order.NewVersion, loss, accuracy, exact, BytesMoved, order.Updates.Count, staleness);
        _points.Add(point);
        _progress?.Invoke(point);
    }

    /// <summary>Evaluates the base model as version 0, at virtual time 0.</summary>
    public void EvaluateStart()
    {
        var (loss, accuracy, exact) = EvaluateInitial();
        _points.Add(new EvaluationPoint(0, 0, loss, accuracy, exact, 0, 0, 0));
    }

    /// <summary>Trains (or stands in for training) the task at <paramref name="rank"/>; returns its samples.</summary>
    protected abstract long TrainUpdate(SimulatedTask task, int rank);

    /// <summary>Makes global version order.NewVersion and measures it on the held-out set.</summary>
    protected abstract (double Loss, double TokenAccuracy, double ExactMatch) ApplyAndEvaluate(AggregationOrder order);

    protected abstract (double Loss, double TokenAccuracy, double ExactMatch) EvaluateInitial();

    /// <summary>Bytes of global version <paramref name="version"/>'s update as a client of <paramref name="rank"/> downloads it.</summary>
    protected abstract long DownloadBytes(long version, int rank);
}
