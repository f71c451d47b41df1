using Federated.Core.Randomness;

namespace Federated.Core.Scheduling.Simulation;

/// <summary>
/// Runs a scheduling policy against virtual clients in virtual time: a priority queue of task completions
/// (at start + steps × seconds per step + network seconds), timer wake-ups at the policy's deadlines and returns
/// of dropped clients. Everything random comes from <see cref="DeterministicRandom"/> streams seeded per client,
/// drawn task by task, so a client's k-th task has the same speed, drift and dropout under every policy.
/// A withdrawn task's client learns of it at once and asks again; a client marked unavailable that is in fact
/// alive asks again when it would have finished.
/// </summary>
public sealed class VirtualTimeEngine
{
    private readonly SimulationOptions _options;
    private readonly ISimulatedTraining _training;
    private readonly PriorityQueue<SimEvent, (double Time, long Sequence)> _queue = new();
    private readonly VirtualClient[] _clients;
    private readonly Dictionary<string, int> _indexOf = new(StringComparer.Ordinal);
    private readonly Dictionary<long, TaskRow> _tasks = [];
    private readonly List<AggregationRecord> _aggregations = [];
    private long _sequence;
    private double _now;
    private double? _timerAt;
    private bool _ran;

    public VirtualTimeEngine(SimulationOptions options, ISimulatedTraining training)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(training);
        options.Validate();
        _options = options;
        _training = training;
        _clients = new VirtualClient[options.Clients];
        for (var i = 0; i < options.Clients; i++)
        {
            var random = new DeterministicRandom(DeterministicRandom.Mix(options.Seed, $"client {i}"));
            var id = $"client-{i:D5}";
            _clients[i] = new VirtualClient(id, random, options.Speeds.BaseSecondsPerStep(i, random));
            _indexOf[id] = i;
        }
    }

    /// <summary>Runs <paramref name="policy"/> (fresh) until MaxAggregations, MaxVirtualSeconds or no more events; once per engine.</summary>
    public SimulationResult Run(ISchedulingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (_ran)
            throw new InvalidOperationException("this engine has run already; create a new one for the next run");
        _ran = true;
        for (var i = 0; i < _clients.Length; i++)
            Apply(policy, policy.ClientReady(_clients[i].Id, 0, MemoryOf(i)));

        long events = 0;
        while (_aggregations.Count < _options.MaxAggregations && events < _options.MaxEvents && _queue.TryDequeue(out var next, out var key))
        {
            if (key.Time > _options.MaxVirtualSeconds)
                break;
            _now = key.Time;
            events++;
            switch (next.Kind)
            {
                case EventKind.Timer:
                    if (_timerAt == key.Time)
                        _timerAt = null;
                    Apply(policy, policy.TimerFired(_now));
                    break;
                case EventKind.Ready:
                    Apply(policy, policy.ClientReady(_clients[next.Client].Id, _now, MemoryOf(next.Client)));
                    break;
                case EventKind.Completion:
                    Complete(policy, next);
                    break;
            }
        }
        var tasks = _tasks.Values.OrderBy(t => t.Task.TaskId).Select(t => t.ToRecord()).ToList();
        return new SimulationResult(policy.Name, tasks, _aggregations, _now, events);
    }

    private double? MemoryOf(int client)
        => _options.ClientMemoryGiB.Count == 0 ? null : _options.ClientMemoryGiB[client % _options.ClientMemoryGiB.Count];

    private void Complete(ISchedulingPolicy policy, SimEvent completion)
    {
        var client = _clients[completion.Client];
        if (client.Running != completion.TaskId)
            return; // withdrawn meanwhile; the client already moved on
        client.Running = null;
        var row = _tasks[completion.TaskId];
        row.End = _now;
        var samples = _training.Train(new SimulatedTask(completion.Client, row.Task, row.Start, _now));
        var report = new UpdateReport(client.Id, completion.TaskId, _now, samples, _options.ReportComputeTime ? completion.SecondsPerStep : null);
        row.Outcome = TaskOutcome.Pending;
        Apply(policy, policy.UpdateArrived(report));
    }

    private void Apply(ISchedulingPolicy policy, ScheduleDecision decision)
    {
        foreach (var order in decision.Aggregations)
        {
            _training.Aggregate(order);
            foreach (var update in order.Updates)
            {
                var row = _tasks[update.TaskId];
                row.AppliedVersion = order.NewVersion;
                row.Staleness = update.Staleness;
                row.Weight = update.Weight;
                row.Outcome = TaskOutcome.Applied;
            }
            _aggregations.Add(new AggregationRecord(
                order.NewVersion,
                order.At,
                order.GroupId,
                order.Updates.Count,
                order.Updates.Sum(u => u.Samples),
                order.Updates.Count == 0 ? 0 : order.Updates.Average(u => (double)u.Staleness),
                order.Updates.Count == 0 ? 0 : order.Updates.Max(u => u.Staleness)));
        }
        foreach (var taskId in decision.Cancelled)
        {
            var row = _tasks[taskId];
            if (row.Outcome == TaskOutcome.Running)
                row.Outcome = TaskOutcome.Cancelled;
            var index = _indexOf[row.Task.ClientId];
            if (_clients[index].Running == taskId && !decision.Unavailable.Contains(row.Task.ClientId))
            {
                _clients[index].Running = null;
                Push(_now, new SimEvent(EventKind.Ready, index, 0, 0));
            }
        }
        foreach (var rejected in decision.Rejected)
        {
            _tasks[rejected.TaskId].Outcome = TaskOutcome.Rejected;
            Push(_now, new SimEvent(EventKind.Ready, _indexOf[rejected.ClientId], 0, 0));
        }
        foreach (var assignment in decision.Assignments)
            Start(assignment);
        if (policy.NextDeadline is { } deadline && deadline != _timerAt)
        {
            _timerAt = deadline;
            Push(Math.Max(deadline, _now), new SimEvent(EventKind.Timer, -1, 0, 0));
        }
    }

    private void Start(ScheduledTask task)
    {
        var index = _indexOf[task.ClientId];
        var client = _clients[index];
        if (client.Running == task.TaskId)
            return; // offered again while already training it
        if (!_tasks.TryGetValue(task.TaskId, out var row))
            _tasks[task.TaskId] = row = new TaskRow(task);
        row.Start = _now;
        row.Outcome = TaskOutcome.Running;

        var secondsPerStep = _options.Speeds.TaskSecondsPerStep(client.BaseSecondsPerStep, index, client.TasksStarted++) * client.DriftFactor;
        if (_options.Drift > 0)
            client.DriftFactor *= Math.Exp(_options.Drift * client.Random.NextGaussian());
        if (_options.DropoutProbability > 0 && client.Random.NextDouble() < _options.DropoutProbability)
        {
            row.Outcome = TaskOutcome.Dropped;
            client.Running = null;
            if (client.Random.NextDouble() >= _options.NeverReturnProbability)
            {
                var away = -_options.ReturnAfterSeconds * Math.Log(1 - client.Random.NextDouble());
                Push(_now + away, new SimEvent(EventKind.Ready, index, 0, 0));
            }
            return;
        }
        client.Running = task.TaskId;
        var end = _now + task.LocalSteps * secondsPerStep + _options.NetworkSeconds;
        Push(end, new SimEvent(EventKind.Completion, index, task.TaskId, secondsPerStep));
    }

    private void Push(double time, SimEvent e) => _queue.Enqueue(e, (time, _sequence++));

    private enum EventKind
    {
        Completion,
        Timer,
        Ready,
    }

    private readonly record struct SimEvent(EventKind Kind, int Client, long TaskId, double SecondsPerStep);

    private sealed class VirtualClient(string id, DeterministicRandom random, double baseSecondsPerStep)
    {
        public string Id { get; } = id;

        public DeterministicRandom Random { get; } = random;

        public double BaseSecondsPerStep { get; } = baseSecondsPerStep;

        public double DriftFactor { get; set; } = 1;

        public long TasksStarted { get; set; }

        public long? Running { get; set; }
    }

    private sealed class TaskRow(ScheduledTask task)
    {
        public ScheduledTask Task { get; } = task;

        public double Start { get; set; }

        public double? End { get; set; }

        public long? AppliedVersion { get; set; }

        public long? Staleness { get; set; }

        public double? Weight { get; set; }

        public TaskOutcome Outcome { get; set; }

        public TaskRecord ToRecord() => new(Task.TaskId, Task.ClientId, Start, End, Task.LocalSteps, Task.StartVersion, AppliedVersion, Staleness, Task.GroupId, Weight, Outcome);
    }
}
