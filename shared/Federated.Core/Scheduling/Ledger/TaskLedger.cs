namespace Federated.Core.Scheduling.Ledger;

/// <summary>
/// A job's task ledger around its scheduling policy: it turns the policy's decisions into tasks as clients see
/// them (rank, alpha, steps, start version, deadline), accepts, refuses and withdraws them, expires them at the task
/// timeout, and queues the aggregations the policy orders with their weights until the owner commits them. Plain
/// code on a <see cref="TimeProvider"/>: the server's scheduler grain owns one per job (it persists
/// <see cref="State"/> with the policy's state, arms timers at <see cref="NextWake"/> and carries out
/// <see cref="TakeEffects"/>), and the simulator's virtual-time engine drives the very same class, so both assign
/// ranks and expire tasks alike. Not thread-safe: one caller at a time (the grain is not reentrant).
/// </summary>
public sealed class TaskLedger<TUpdate>
    where TUpdate : class
{
    private readonly LedgerOptions _options;
    private readonly TimeProvider _time;
    private readonly List<LedgerEffect> _effects = [];

    // Indexes over State.Issued (rebuilt from it on load, kept in step by every change here), so a request, an
    // upload or a wake-up costs the client's few tasks, not a scan of the whole federation's.
    private readonly Dictionary<string, List<LedgerTask<TUpdate>>> _byClient = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LedgerTask<TUpdate>> _byWireId = new(StringComparer.Ordinal);
    private readonly SortedSet<(DateTimeOffset Deadline, long PolicyTaskId)> _openDeadlines = [];

    public TaskLedger(LedgerOptions options, ISchedulingPolicy policy, LedgerState<TUpdate> state, TimeProvider time, long committedVersion)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(time);
        options.Validate();
        _options = options;
        Policy = policy;
        State = state;
        _time = time;
        CommittedVersion = committedVersion;
        foreach (var task in state.Issued.Values)
            Index(task);
    }

    public ISchedulingPolicy Policy { get; }

    public LedgerState<TUpdate> State { get; }

    /// <summary>The last global version committed to the job; tasks starting after it are held back.</summary>
    public long CommittedVersion { get; private set; }

    /// <summary>State changed in a way that must be persisted before the call's answer is given.</summary>
    public bool Dirty { get; private set; }

    /// <summary>The policy's clock: seconds since the job's creation, never behind the policy's last event.</summary>
    public double Now => Math.Max((_time.GetUtcNow() - _options.Origin).TotalSeconds, Policy.State.Now ?? 0);

    /// <summary>When the owner should next call <see cref="FireTimer"/> and <see cref="ExpireOne"/>: the policy's next deadline or the earliest task timeout.</summary>
    public DateTimeOffset? NextWake
    {
        get
        {
            DateTimeOffset? wake = Policy.NextDeadline is { } next ? WallTimeAtOrAfter(next) : null;
            return NextTaskTimeout is { } timeout && (wake is null || timeout < wake) ? timeout : wake;
        }
    }

    /// <summary>The earliest deadline of an open task, if any.</summary>
    public DateTimeOffset? NextTaskTimeout => _openDeadlines.Count > 0 ? _openDeadlines.Min.Deadline : null;

    public IEnumerable<LedgerTask<TUpdate>> OpenTasks => _openDeadlines.Select(d => State.Issued[d.PolicyTaskId]);

    /// <summary>The owner has persisted <see cref="State"/>.</summary>
    public void MarkSaved() => Dirty = false;

    /// <summary>What happened since the last call, oldest first.</summary>
    public IReadOnlyList<LedgerEffect> TakeEffects()
    {
        var effects = _effects.ToArray();
        _effects.Clear();
        return effects;
    }

    /// <summary>A client asks for work (the policy's ClientReady). Follow with <see cref="OfferFor"/> once queued aggregations are done.</summary>
    public void Ready(string clientId, double? memoryGiB)
    {
        if (Policy.State.Clients.TryGetValue(clientId, out var known) && !known.Available)
            _effects.Add(new ClientBack(clientId)); // asking again makes a dropped client available
        Apply(Policy.ClientReady(clientId, Now, memoryGiB));
    }

    /// <summary>The client's open task, or why it has none now.</summary>
    public (LedgerTask<TUpdate>? Task, string Reason) OfferFor(string clientId)
    {
        var open = TasksOf(clientId).FirstOrDefault(t => t.Status == LedgerTaskStatus.Open);
        if (open is null)
            return (null, WaitReason(clientId));
        if (open.StartVersion > CommittedVersion)
            return (null, $"task {open.WireTaskId} starts from global version {open.StartVersion}, which is being aggregated");
        return (open, "");
    }

    /// <summary>The client's task with this wire id and round; open, or also already answered when <paramref name="answeredToo"/>.</summary>
    public LedgerTask<TUpdate> Find(string clientId, string wireTaskId, int wireRound, bool answeredToo = false)
    {
        if (!_byWireId.TryGetValue(wireTaskId, out var task) || task.ClientId != clientId || task.WireRound != wireRound)
            throw new TaskRefusedException($"client '{clientId}' has no open task {wireTaskId} in round {wireRound} of job '{_options.JobId}' (finished, superseded, or never issued); ask for a new task");
        return task.Status switch
        {
            LedgerTaskStatus.Open => task,
            LedgerTaskStatus.Accepted when answeredToo => task,
            LedgerTaskStatus.Aggregated => throw new TaskRefusedException($"round {wireRound} of job '{_options.JobId}' has closed: the update of task {wireTaskId} is aggregated; ask for a new task"),
            LedgerTaskStatus.Withdrawn => throw new TaskRefusedException($"task {wireTaskId} is closed: {task.Reason}; ask for a new task"),
            _ => throw new TaskRefusedException($"task {wireTaskId} already has an accepted update"),
        };
    }

    /// <summary>
    /// Whether an update for this task was accepted before: true for the same hash (a repeated upload), a refusal for
    /// another; false if the task still waits for its update. Throws <see cref="TaskRefusedException"/> for a closed task.
    /// </summary>
    public bool IsDuplicate(string clientId, string wireTaskId, int wireRound, string sha256)
    {
        var task = Find(clientId, wireTaskId, wireRound, answeredToo: true);
        if (task.Status != LedgerTaskStatus.Accepted)
            return false;
        if (task.UpdateSha256 == sha256)
            return true;
        throw new TaskRefusedException($"task {wireTaskId} already has an accepted update ({task.UpdateSha256}); a task takes one update");
    }

    /// <summary>
    /// Counts a stored update for its open task (the policy's UpdateArrived). The client's own timing, when it
    /// reported any (seconds per step, else compute seconds for the task), is its compute speed; without it the
    /// policy measures hand-out to arrival. Throws <see cref="TaskRefusedException"/> if the policy refuses it; the
    /// state is then still changed (the task is withdrawn) and dirty.
    /// </summary>
    public LedgerTask<TUpdate> Submit(string clientId, string wireTaskId, int wireRound, string sha256, long samples, UpdateTiming timing, TUpdate update)
    {
        var task = Find(clientId, wireTaskId, wireRound);
        var decision = Policy.UpdateArrived(new UpdateReport(clientId, task.PolicyTaskId, Now, samples, timing.ComputeSecondsPerStep(task.Steps)));
        if (decision.Rejected.FirstOrDefault(r => r.TaskId == task.PolicyTaskId) is { } rejected)
        {
            Withdraw(task, rejected.Reason);
            _effects.Add(new UpdateRefused(clientId, wireTaskId, rejected.Reason));
            Apply(decision);
            throw new TaskRefusedException($"task {wireTaskId}: {rejected.Reason}; ask for a new task");
        }
        SetStatus(task, LedgerTaskStatus.Accepted);
        task.UpdateSha256 = sha256;
        task.Samples = samples;
        task.Update = update;
        task.ArrivedAt = _time.GetUtcNow();
        _effects.Add(new TaskAccepted(clientId, wireTaskId, task.WireRound, sha256, samples, task.Rank, timing.SecondsPerStep));
        Dirty = true;
        Apply(decision);
        return task;
    }

    /// <summary>The client gives its open task back; the policy hears it is lost.</summary>
    public void Abandon(string clientId, string wireTaskId, int wireRound, string reason)
        => Lose(Find(clientId, wireTaskId, wireRound), TaskLossKind.GivenBack, $"given back: {reason}");

    /// <summary>
    /// An operator removed the client: its open task is withdrawn and the policy stops counting it in federation
    /// weighting's N. A client that never asked this job, or was removed before, is ignored.
    /// </summary>
    public void ClientRemoved(string clientId)
    {
        if (!Policy.State.Clients.TryGetValue(clientId, out var known) || known.Removed)
            return;
        foreach (var task in TasksOf(clientId).Where(t => t.Status == LedgerTaskStatus.Open).ToList())
        {
            const string reason = "withdrawn: the client was removed by an operator";
            Withdraw(task, reason);
            _effects.Add(new TaskLost(task.ClientId, task.PolicyTaskId, task.WireTaskId, task.WireRound, TaskLossKind.Withdrawn, reason));
        }
        Dirty = true;
        Apply(Policy.ClientRemoved(clientId, Now));
    }

    /// <summary>Fires the policy's timer if its deadline is due.</summary>
    public void FireTimer()
    {
        var now = Now;
        if (Policy.NextDeadline <= now)
            Apply(Policy.TimerFired(now));
    }

    /// <summary>Expires the earliest open task past its timeout, if any; call until false (the owner commits what it sets off in between).</summary>
    public bool ExpireOne()
    {
        if (_openDeadlines.Count == 0 || _openDeadlines.Min.Deadline > _time.GetUtcNow())
            return false;
        var task = State.Issued[_openDeadlines.Min.PolicyTaskId];
        Lose(task, TaskLossKind.TimedOut, $"expired at its deadline {task.Deadline:O}");
        return true;
    }

    /// <summary>
    /// The oldest queued aggregation with its tasks in client order (so a round's stacked layout does not depend on
    /// arrival order) and the policy's weights; orders committed before a crash are finished
    /// on the way. Null when none is queued.
    /// </summary>
    public LedgerAggregation<TUpdate>? NextAggregation()
    {
        while (State.Aggregations.Count > 0)
        {
            var order = State.Aggregations[0];
            if (order.Version <= CommittedVersion)
            {
                FinishFirst(); // committed before a crash
                continue;
            }
            var contributions = order.Updates
                .OrderBy(u => State.Issued[u.PolicyTaskId].ClientId, StringComparer.Ordinal).ThenBy(u => u.PolicyTaskId).ToList();
            return new LedgerAggregation<TUpdate>(
                order.Version,
                order.GroupId,
                [.. contributions.Select(c => new LedgerContribution<TUpdate>(State.Issued[c.PolicyTaskId], c.Weight, c.Staleness))]);
        }
        return null;
    }

    /// <summary>The owner committed the oldest queued aggregation as global version <paramref name="version"/>.</summary>
    public void Committed(long version)
    {
        if (State.Aggregations.Count == 0 || State.Aggregations[0].Version != version)
            throw new InvalidOperationException($"job '{_options.JobId}': version {version} is not the next queued aggregation");
        FinishFirst();
        CommittedVersion = Math.Max(CommittedVersion, version);
    }

    /// <summary>The job has ended: aggregations ordered past its last round are dropped.</summary>
    public void DropQueuedAggregations()
    {
        if (State.Aggregations.Count == 0)
            return;
        State.Aggregations.Clear();
        Dirty = true;
    }

    /// <summary>Every rank the job's clients train at (for strategies that keep a view per rank).</summary>
    public int[] KnownRanks() => _options.Ranks.Concat(_options.ClientRanks.Values).Concat(State.AssignedRanks.Values)
        .Concat(State.Issued.Values.Select(t => t.Rank)).Distinct().Order().ToArray();

    /// <summary>
    /// The first tick (100 ns) of wall time at which the policy's clock has reached <paramref name="seconds"/>: one tick
    /// past the rounded value, so a wake-up or a task deadline at a policy deadline never comes before the policy
    /// sees it due (its task would expire instead of being withdrawn by the policy).
    /// </summary>
    public DateTimeOffset WallTimeAtOrAfter(double seconds) => _options.Origin.AddTicks((long)Math.Ceiling(seconds * TimeSpan.TicksPerSecond) + 1);

    private void Lose(LedgerTask<TUpdate> task, TaskLossKind kind, string reason)
    {
        Withdraw(task, reason);
        _effects.Add(new TaskLost(task.ClientId, task.PolicyTaskId, task.WireTaskId, task.WireRound, kind, reason));
        Dirty = true;
        Apply(Policy.ClientLost(task.ClientId, Now));
    }

    /// <summary>Carries out a decision: withdraws cancelled tasks, issues new ones and queues aggregations.</summary>
    private void Apply(ScheduleDecision decision)
    {
        foreach (var id in decision.Cancelled)
        {
            if (State.Issued.TryGetValue(id, out var task) && task.Status == LedgerTaskStatus.Open)
            {
                var reason = $"expired: the {Policy.Name} scheduler withdrew it when its deadline passed";
                Withdraw(task, reason);
                _effects.Add(new TaskLost(task.ClientId, task.PolicyTaskId, task.WireTaskId, task.WireRound, TaskLossKind.Withdrawn, reason));
                Dirty = true;
            }
        }
        foreach (var assignment in decision.Assignments)
        {
            if (State.Issued.ContainsKey(assignment.TaskId))
                continue; // the open task, offered again
            Issue(assignment);
            Dirty = true;
        }
        foreach (var order in decision.Aggregations)
        {
            State.Aggregations.Add(new PendingAggregation
            {
                Version = order.NewVersion,
                GroupId = order.GroupId,
                Updates = [.. order.Updates.Select(u => new PendingContribution { PolicyTaskId = u.TaskId, Weight = u.Weight, Staleness = u.Staleness })],
            });
            Dirty = true;
        }
        foreach (var clientId in decision.Unavailable)
        {
            _effects.Add(new ClientDropped(clientId, Policy.Name));
            Dirty = true;
        }
        if (decision.Rejected.Count > 0)
            Dirty = true;
    }

    private void Issue(ScheduledTask assignment)
    {
        // A client's finished tasks are kept until its next one, so a repeated upload gets a clear answer.
        foreach (var old in TasksOf(assignment.ClientId).Where(t => t.Status is LedgerTaskStatus.Withdrawn or LedgerTaskStatus.Aggregated).ToList())
            Remove(old);
        var rank = _options.ClientRanks.TryGetValue(assignment.ClientId, out var named) ? named : assignment.Rank ?? CyclingRank(assignment.ClientId);
        var issuedAt = _time.GetUtcNow();
        var deadline = issuedAt + _options.TaskTimeout;
        // Synchronous rounds withdraw open tasks at the round's deadline; the other policies keep a late task
        // open (fedcompass applies it with the next group), so the client may upload until the task timeout.
        if (Policy.State is SynchronousState && assignment.Deadline is { } due && WallTimeAtOrAfter(due) < deadline)
            deadline = WallTimeAtOrAfter(due);
        var task = new LedgerTask<TUpdate>
        {
            WireTaskId = $"{_options.JobId}.t{assignment.TaskId}.{assignment.ClientId}",
            PolicyTaskId = assignment.TaskId,
            ClientId = assignment.ClientId,
            WireRound = checked((int)assignment.StartVersion + 1),
            StartVersion = assignment.StartVersion,
            Steps = assignment.LocalSteps,
            Rank = rank,
            Alpha = _options.LoraAlphaPerRank * rank,
            IssuedAt = issuedAt,
            Deadline = deadline,
            Group = assignment.GroupId,
        };
        State.Issued[task.PolicyTaskId] = task;
        Index(task);
        _effects.Add(new TaskIssued(task.ClientId, task.PolicyTaskId, task.WireTaskId, task.StartVersion, task.Rank, task.Steps, task.IssuedAt));
    }

    private void Withdraw(LedgerTask<TUpdate> task, string reason)
    {
        SetStatus(task, LedgerTaskStatus.Withdrawn);
        task.Reason = reason;
    }

    private void SetStatus(LedgerTask<TUpdate> task, LedgerTaskStatus status)
    {
        if (task.Status == LedgerTaskStatus.Open)
            _openDeadlines.Remove((task.Deadline, task.PolicyTaskId));
        task.Status = status;
        if (status == LedgerTaskStatus.Open)
            _openDeadlines.Add((task.Deadline, task.PolicyTaskId));
    }

    private IEnumerable<LedgerTask<TUpdate>> TasksOf(string clientId)
        => _byClient.TryGetValue(clientId, out var tasks) ? tasks : [];

    private void Index(LedgerTask<TUpdate> task)
    {
        if (!_byClient.TryGetValue(task.ClientId, out var tasks))
            _byClient[task.ClientId] = tasks = [];
        tasks.Add(task);
        _byWireId[task.WireTaskId] = task;
        if (task.Status == LedgerTaskStatus.Open)
            _openDeadlines.Add((task.Deadline, task.PolicyTaskId));
    }

    private void Remove(LedgerTask<TUpdate> task)
    {
        State.Issued.Remove(task.PolicyTaskId);
        _byClient[task.ClientId].Remove(task);
        _byWireId.Remove(task.WireTaskId);
        if (task.Status == LedgerTaskStatus.Open)
            _openDeadlines.Remove((task.Deadline, task.PolicyTaskId));
    }

    private void FinishFirst()
    {
        foreach (var update in State.Aggregations[0].Updates)
        {
            if (State.Issued.TryGetValue(update.PolicyTaskId, out var task))
                SetStatus(task, LedgerTaskStatus.Aggregated);
        }
        State.Aggregations.RemoveAt(0);
        Dirty = true;
    }

    private int CyclingRank(string clientId)
    {
        if (!State.AssignedRanks.TryGetValue(clientId, out var rank))
        {
            rank = _options.Ranks[State.NextRankIndex++ % _options.Ranks.Count];
            State.AssignedRanks[clientId] = rank;
        }
        return rank;
    }

    private string WaitReason(string clientId)
    {
        if (TasksOf(clientId).Any(t => t.Status == LedgerTaskStatus.Accepted))
            return $"the update of client '{clientId}' is in; the {Policy.Name} scheduler assigns more work when it is aggregated";
        return Policy switch
        {
            SynchronousPolicy s => $"round {s.State.Round} has its {s.Options.ClientsPerRound} clients; waiting for the next round",
            _ => $"the {Policy.Name} scheduler has no task for client '{clientId}' now",
        };
    }
}
