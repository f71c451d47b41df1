using Federated.Core.Randomness;
using Federated.Core.Scheduling.Ledger;

namespace Federated.Core.Scheduling.Simulation;

/// <summary>
/// Runs a scheduling policy against virtual clients in virtual time, through the same <see cref="TaskLedger{TUpdate}"/>
/// the server's scheduler grain uses (so ranks are assigned by first request and tasks expire at the task timeout as
/// there): a priority queue of task completions (at start + steps × seconds per step + network seconds), timer
/// wake-ups at the ledger's next wake and returns of dropped clients, on a <see cref="VirtualClock"/>. Everything
/// random comes from <see cref="DeterministicRandom"/> streams seeded per client, drawn task by task, so a client's
/// k-th task has the same speed, drift and dropout under every policy. A withdrawn or expired task's client learns
/// of it at once and asks again; a client marked unavailable that is in fact alive asks again when it would have
/// finished. Aggregations are committed the moment they are ordered.
/// </summary>
public sealed class VirtualTimeEngine
{
    private readonly SimulationOptions _options;
    private readonly ISimulatedTraining _training;
    private readonly PriorityQueue<SimEvent, (long Ticks, long Sequence)> _queue = new();
    private readonly VirtualClient[] _clients;
    private readonly Dictionary<string, int> _indexOf = new(StringComparer.Ordinal);
    private readonly Dictionary<long, TaskRow> _tasks = [];
    private readonly List<AggregationRecord> _aggregations = [];
    private readonly VirtualClock _clock = new();
    private TaskLedger<SimulatedUpdate>? _ledger;
    private long _sequence;
    private long? _timerAt;
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

    private double Now => _clock.Seconds;

    /// <summary>Runs <paramref name="policy"/> (fresh) until MaxAggregations, MaxVirtualSeconds or no more events; once per engine.</summary>
    public SimulationResult Run(ISchedulingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (_ran)
            throw new InvalidOperationException("this engine has run already; create a new one for the next run");
        _ran = true;
        var ledger = _ledger = new TaskLedger<SimulatedUpdate>(new LedgerOptions
        {
            JobId = "simulation",
            Origin = VirtualClock.Origin,
            Ranks = _options.Ranks,
            ClientRanks = _options.ClientRanks,
            TaskTimeout = TimeSpan.FromSeconds(_options.TaskTimeoutSeconds),
        }, policy, new LedgerState<SimulatedUpdate>(), _clock, committedVersion: policy.Version);
        for (var i = 0; i < _clients.Length; i++)
            Ask(i);

        long events = 0;
        while (_aggregations.Count < _options.MaxAggregations && events < _options.MaxEvents && _queue.TryDequeue(out var next, out var key))
        {
            if (_options.MaxVirtualSeconds is { } end && (double)key.Ticks / TimeSpan.TicksPerSecond > end)
                break;
            _clock.Ticks = Math.Max(_clock.Ticks, key.Ticks);
            events++;
            switch (next.Kind)
            {
                case EventKind.Timer:
                    if (_timerAt == key.Ticks)
                        _timerAt = null;
                    ledger.FireTimer();
                    Settle();
                    while (ledger.ExpireOne())
                        Settle();
                    break;
                case EventKind.Ready:
                    Ask(next.Client);
                    break;
                case EventKind.Completion:
                    Complete(next);
                    break;
            }
        }
        var tasks = _tasks.Values.OrderBy(t => t.Task.TaskId).Select(t => t.ToRecord()).ToList();
        return new SimulationResult(policy.Name, tasks, _aggregations, Now, events);
    }

    /// <summary>A client asks for work, as a daemon polls: a task its asking sets off starts at once, and its open task is offered again (a client back from a dropout resumes it).</summary>
    private void Ask(int client)
    {
        var ledger = _ledger!;
        ledger.Ready(_clients[client].Id, MemoryOf(client));
        Settle();
        if (ledger.OfferFor(_clients[client].Id).Task is { } open && _clients[client].Running != open.PolicyTaskId)
            Start(open);
    }

    private double? MemoryOf(int client)
        => _options.ClientMemoryGiB.Count == 0 ? null : _options.ClientMemoryGiB[client % _options.ClientMemoryGiB.Count];

    private void Complete(SimEvent completion)
    {
        var client = _clients[completion.Client];
        if (client.Running != completion.TaskId)
            return; // withdrawn meanwhile; the client already moved on
        client.Running = null;
        var row = _tasks[completion.TaskId];
        row.End = Now;
        var samples = _training.Train(new SimulatedTask(completion.Client, row.Task, row.Start, Now));
        var timing = new UpdateTiming(_options.ReportComputeTime ? completion.SecondsPerStep : 0, 0);
        row.Outcome = TaskOutcome.Pending;
        try
        {
            _ledger!.Submit(client.Id, row.WireTaskId, row.WireRound, $"task-{completion.TaskId}", samples, timing, new SimulatedUpdate(samples));
        }
        catch (TaskRefusedException)
        {
            row.Outcome = TaskOutcome.Rejected;
            Push(_clock.Ticks, new SimEvent(EventKind.Ready, completion.Client, 0, 0));
        }
        Settle();
    }

    /// <summary>After every ledger call: commit what it queued, start and stop tasks as it says, re-arm the timer.</summary>
    private void Settle()
    {
        var ledger = _ledger!;
        var effects = ledger.TakeEffects();
        while (ledger.NextAggregation() is { } aggregation)
        {
            var order = new AggregationOrder(aggregation.Version, Now, aggregation.GroupId, [.. aggregation.Contributions.Select(c =>
                new WeightedUpdate(c.Task.PolicyTaskId, c.Task.ClientId, c.Task.StartVersion, c.Staleness, c.Task.Samples, c.Weight))]);
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
            ledger.Committed(aggregation.Version);
        }
        var dropped = effects.OfType<ClientDropped>().Select(d => d.ClientId).ToHashSet(StringComparer.Ordinal);
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case TaskLost lost:
                    Stop(lost, dropped.Contains(lost.ClientId));
                    break;
                case TaskIssued issued:
                    Start(ledger.State.Issued[issued.PolicyTaskId]);
                    break;
            }
        }
        ledger.MarkSaved();
        if (NextWakeTicks(ledger) is { } at && at != _timerAt)
        {
            _timerAt = at;
            Push(at, new SimEvent(EventKind.Timer, -1, 0, 0));
        }
    }

    /// <summary>The ledger's next wake in ticks, never before now.</summary>
    private long? NextWakeTicks(TaskLedger<SimulatedUpdate> ledger)
        => ledger.NextWake is { } wake ? Math.Max(VirtualClock.TicksOf(wake), _clock.Ticks) : null;

    /// <summary>A task the ledger closed: the client learns at once and asks again, unless the policy dropped it.</summary>
    private void Stop(TaskLost lost, bool dropped)
    {
        var index = _indexOf[lost.ClientId];
        var taskId = lost.PolicyTaskId;
        var row = _tasks[taskId];
        if (row.Outcome == TaskOutcome.Running)
            row.Outcome = lost.Kind == TaskLossKind.TimedOut ? TaskOutcome.Expired : TaskOutcome.Cancelled;
        if (_clients[index].Running == taskId && !dropped)
        {
            _clients[index].Running = null;
            Push(_clock.Ticks, new SimEvent(EventKind.Ready, index, 0, 0));
        }
    }

    private void Start(LedgerTask<SimulatedUpdate> issued)
    {
        var task = new ScheduledTask(issued.PolicyTaskId, issued.ClientId, issued.Steps, issued.StartVersion, Now, null, issued.Rank, issued.Group);
        var index = _indexOf[task.ClientId];
        var client = _clients[index];
        if (client.Running == task.TaskId)
            return; // offered again while already training it
        if (!_tasks.TryGetValue(task.TaskId, out var row))
            _tasks[task.TaskId] = row = new TaskRow(task, issued.WireTaskId, issued.WireRound);
        row.Start = Now;
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
                Push(_clock.Ticks + VirtualClock.DurationTicks(away), new SimEvent(EventKind.Ready, index, 0, 0));
            }
            return;
        }
        client.Running = task.TaskId;
        var end = _clock.Ticks + VirtualClock.DurationTicks(task.LocalSteps * secondsPerStep + _options.NetworkSeconds);
        Push(end, new SimEvent(EventKind.Completion, index, task.TaskId, secondsPerStep));
    }

    private void Push(long ticks, SimEvent e) => _queue.Enqueue(e, (ticks, _sequence++));

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

    private sealed class TaskRow(ScheduledTask task, string wireTaskId, int wireRound)
    {
        public ScheduledTask Task { get; } = task;

        public string WireTaskId { get; } = wireTaskId;

        public int WireRound { get; } = wireRound;

        public double Start { get; set; }

        public double? End { get; set; }

        public long? AppliedVersion { get; set; }

        public long? Staleness { get; set; }

        public double? Weight { get; set; }

        public TaskOutcome Outcome { get; set; }

        public TaskRecord ToRecord() => new(Task.TaskId, Task.ClientId, Start, End, Task.LocalSteps, Task.StartVersion, AppliedVersion, Staleness, Task.GroupId, Weight, Outcome, Task.Rank ?? 0);
    }
}

/// <summary>What the simulator's ledger keeps of an accepted update.</summary>
public sealed record SimulatedUpdate(long Samples);
