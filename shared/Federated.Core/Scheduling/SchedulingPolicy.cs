namespace Federated.Core.Scheduling;

/// <summary>
/// The bookkeeping every policy shares: the clock, task ids, open tasks, speed estimates, input checks and
/// aggregation orders. A policy adds what happens when a client is ready, an update arrives, a deadline is due
/// or a client is lost.
/// </summary>
public abstract class SchedulingPolicy<TOptions, TState> : ISchedulingPolicy
    where TOptions : SchedulerOptions
    where TState : SchedulingState
{
    // Running totals of federation weighting's N; not persisted, rebuilt from the state on first use.
    private FederationTotals? _federation;

    private protected SchedulingPolicy(TOptions options, TState state)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(state);
        options.Validate();
        Options = options;
        State = state;
    }

    public abstract string Name { get; }

    public TOptions Options { get; }

    public TState State { get; }

    SchedulingState ISchedulingPolicy.State => State;

    public long Version => State.Version;

    public abstract double? NextDeadline { get; }

    public ScheduleDecision ClientReady(string clientId, double now, double? memoryGiB = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(clientId);
        if (memoryGiB is { } memory && !(memory > 0 && double.IsFinite(memory)))
            throw new ArgumentOutOfRangeException(nameof(memoryGiB), memory, $"client '{clientId}': memory must be a finite number of GiB > 0");
        var decision = Begin(now);
        if (!State.Clients.TryGetValue(clientId, out var client))
        {
            State.Clients[clientId] = client = new ClientRecord { ClientId = clientId };
            _federation?.Add(client, Options.ClientWeights, +1);
        }
        if (client.Removed)
            Change(client, c => c.Removed = false);
        if (memoryGiB is not null)
            client.MemoryGiB = memoryGiB;
        if (client.Task is { } open)
            decision.Assignments.Add(Describe(client, open));
        else if (client.Waiting)
            decision.Waiting.Add(clientId);
        else
        {
            if (!client.Available)
            {
                client.Available = true;
                client.MissedDeadlines = 0;
            }
            OnReady(client, now, decision);
        }
        return decision.Build();
    }

    public ScheduleDecision UpdateArrived(UpdateReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!State.Clients.TryGetValue(report.ClientId, out var client))
            throw new ArgumentException($"update from unknown client '{report.ClientId}' (task {report.TaskId})", nameof(report));
        if (report.TaskId < 1 || report.TaskId >= State.NextTaskId)
            throw new ArgumentException($"update from client '{report.ClientId}' names task {report.TaskId}, which was never issued", nameof(report));
        if (report.Samples < 1)
            throw new ArgumentException($"update from client '{report.ClientId}' for task {report.TaskId}: Samples must be at least 1, got {report.Samples}", nameof(report));
        if (report.ComputeSecondsPerStep is { } compute && !(compute >= 0 && double.IsFinite(compute)))
            throw new ArgumentException($"update from client '{report.ClientId}' for task {report.TaskId}: ComputeSecondsPerStep must be a finite number ≥ 0, got {compute}", nameof(report));

        var decision = Begin(report.Now);
        if (client.Task is not { } task || task.TaskId != report.TaskId)
        {
            decision.Rejected.Add(new RejectedUpdate(report.TaskId, report.ClientId, $"task {report.TaskId} is no longer open (returned before, withdrawn, or its client was marked unavailable)"));
            return decision.Build();
        }
        client.Task = null;
        client.UpdatesReceived++;
        Change(client, c => c.Samples = report.Samples);
        Measure(client, task, report);
        var update = new PendingUpdate
        {
            TaskId = task.TaskId,
            ClientId = client.ClientId,
            StartVersion = task.StartVersion,
            Samples = report.Samples,
            ArrivedAt = report.Now,
        };
        OnUpdate(client, task, update, report.Now, decision);
        return decision.Build();
    }

    public ScheduleDecision TimerFired(double now) => Begin(now).Build();

    public ScheduleDecision ClientLost(string clientId, double now)
    {
        if (!State.Clients.TryGetValue(clientId, out var client))
            throw new ArgumentException($"unknown client '{clientId}' reported lost", nameof(clientId));
        return Lose(client, now, removed: false);
    }

    public ScheduleDecision ClientRemoved(string clientId, double now)
        => State.Clients.TryGetValue(clientId, out var client) ? Lose(client, now, removed: true) : Begin(now).Build();

    private ScheduleDecision Lose(ClientRecord client, double now, bool removed)
    {
        var decision = Begin(now);
        if (removed && !client.Removed)
            Change(client, c => c.Removed = true);
        client.Available = false;
        client.Waiting = false;
        var task = client.Task;
        if (task is not null)
        {
            client.Task = null;
            decision.Cancelled.Add(task.TaskId);
        }
        OnLost(client, task, now, decision);
        return decision.Build();
    }

    private protected abstract void OnReady(ClientRecord client, double now, DecisionBuilder decision);

    private protected abstract void OnUpdate(ClientRecord client, OpenTask task, PendingUpdate update, double now, DecisionBuilder decision);

    /// <summary>Handles everything due at or before <paramref name="now"/>; called when <see cref="NextDeadline"/> ≤ now.</summary>
    private protected virtual void OnDue(double now, DecisionBuilder decision)
    {
    }

    private protected virtual void OnLost(ClientRecord client, OpenTask? task, double now, DecisionBuilder decision)
    {
    }

    private DecisionBuilder Begin(double now)
    {
        if (!double.IsFinite(now))
            throw new ArgumentOutOfRangeException(nameof(now), now, "the clock must be a finite number of seconds");
        if (State.Now is { } last && now < last)
            throw new ArgumentOutOfRangeException(nameof(now), now, $"the clock went back from {last} to {now}");
        State.Now = now;
        var decision = new DecisionBuilder();
        if (NextDeadline <= now)
            OnDue(now, decision);
        return decision;
    }

    /// <summary>Hands <paramref name="client"/> a new task starting from the current version.</summary>
    private protected ScheduledTask Assign(ClientRecord client, int steps, double now, double? deadline, long? groupId, DecisionBuilder decision)
    {
        var task = new OpenTask
        {
            TaskId = State.NextTaskId++,
            Steps = steps,
            StartVersion = State.Version,
            IssuedAt = now,
            Deadline = deadline,
            GroupId = groupId,
            Rank = RankFor(client),
        };
        client.Task = task;
        client.Waiting = false;
        var assignment = Describe(client, task);
        decision.Assignments.Add(assignment);
        return assignment;
    }

    private protected static void Wait(ClientRecord client, DecisionBuilder decision)
    {
        client.Waiting = true;
        decision.Waiting.Add(client.ClientId);
    }

    /// <summary>
    /// Orders one aggregation: staleness = version before it − start version; weight from the policy's rule, given the
    /// staleness and the update's sample factor w_k = n_k / N (<see cref="UpdateWeighting"/>: N over the federation or
    /// over these updates; a job's client weight replaces n_k).
    /// </summary>
    private protected void Aggregate(IReadOnlyList<PendingUpdate> updates, double now, long? groupId, Func<long, double, double> weight, DecisionBuilder decision)
    {
        // In floating point: sample counts that sum past long.MaxValue cannot overflow it.
        var total = Options.Weighting == UpdateWeighting.Batch ? updates.Sum(u => MassOf(u.ClientId, u.Samples)) : FederationMass(updates);
        var weighted = updates.Select(u =>
        {
            var staleness = State.Version - u.StartVersion;
            return new WeightedUpdate(u.TaskId, u.ClientId, u.StartVersion, staleness, u.Samples, weight(staleness, MassOf(u.ClientId, u.Samples) / total));
        }).ToList();
        State.Version++;
        decision.Aggregations.Add(new AggregationOrder(State.Version, now, groupId, weighted));
    }

    private double MassOf(string clientId, long samples) => Options.ClientWeights.TryGetValue(clientId, out var w) ? w : samples;

    /// <summary>
    /// N: the masses of every client the policy knows and was not removed, and of the clients of <paramref name="updates"/>
    /// (a removed client's update still in a buffer stays within its own N). A client not reported yet counts at the mean
    /// of those that have, as the reference knows every client's size from the start (APPFL's clients send it first).
    /// Kept as running totals, so an aggregation costs its own updates, not a pass over 10,000 clients; they are exact
    /// (sample counts in an Int128, client weights summed afresh in one order), so a restored policy weighs the same.
    /// </summary>
    private double FederationMass(IReadOnlyList<PendingUpdate> updates)
    {
        var totals = Federation;
        double known = (double)totals.Samples + totals.CustomSum(State.Clients, Options.ClientWeights);
        var knownCount = totals.Reported + totals.CustomCount;
        foreach (var clientId in updates.Select(u => u.ClientId).Distinct(StringComparer.Ordinal))
        {
            var client = State.Clients[clientId];
            if (client.Removed)
                (known, knownCount) = (known + MassOf(clientId, client.Samples!.Value), knownCount + 1);
        }
        // Every client in the batch has reported (its update carries its samples), so knownCount ≥ 1.
        return known + totals.Unknown * (known / knownCount);
    }

    /// <summary>The running totals behind N, rebuilt from the state on first use (they are not persisted).</summary>
    private FederationTotals Federation
    {
        get
        {
            if (_federation is null)
            {
                _federation = new FederationTotals();
                foreach (var client in State.Clients.Values)
                    _federation.Add(client, Options.ClientWeights, +1);
            }
            return _federation;
        }
    }

    /// <summary>Changes what a client contributes to N and keeps the running totals in step.</summary>
    private void Change(ClientRecord client, Action<ClientRecord> change)
    {
        _federation?.Add(client, Options.ClientWeights, -1);
        change(client);
        _federation?.Add(client, Options.ClientWeights, +1);
    }

    /// <summary>
    /// Members (known, not removed) without a client weight: Σ reported samples, how many reported, how many not yet;
    /// and the members with one, summed again only after a member with a client weight joined or left.
    /// </summary>
    private sealed class FederationTotals
    {
        private double? _customSum;

        public Int128 Samples { get; private set; }

        public int Reported { get; private set; }

        public int Unknown { get; private set; }

        public int CustomCount { get; private set; }

        public void Add(ClientRecord client, IReadOnlyDictionary<string, double> weights, int sign)
        {
            if (client.Removed)
                return;
            if (weights.ContainsKey(client.ClientId))
                _customSum = null;
            else if (client.Samples is { } n)
                (Samples, Reported) = (Samples + sign * (Int128)n, Reported + sign);
            else
                Unknown += sign;
        }

        public double CustomSum(Dictionary<string, ClientRecord> clients, IReadOnlyDictionary<string, double> weights)
        {
            if (_customSum is { } sum)
                return sum;
            (sum, CustomCount) = (0, 0);
            foreach (var (clientId, weight) in weights)
            {
                if (clients.TryGetValue(clientId, out var client) && !client.Removed)
                    (sum, CustomCount) = (sum + weight, CustomCount + 1);
            }
            _customSum = sum;
            return sum;
        }
    }

    /// <summary>Withdraws a client's open task and marks it unavailable until it asks again.</summary>
    private protected static void MarkUnavailable(ClientRecord client, DecisionBuilder decision)
    {
        if (client.Task is { } task)
            decision.Cancelled.Add(task.TaskId);
        client.Task = null;
        client.Available = false;
        client.Waiting = false;
        decision.Unavailable.Add(client.ClientId);
    }

    private void Measure(ClientRecord client, OpenTask task, UpdateReport report)
    {
        var elapsed = Math.Max(0, report.Now - task.IssuedAt);
        double perStep, network;
        if (report.ComputeSecondsPerStep is { } compute)
        {
            perStep = compute;
            network = Math.Max(0, elapsed - compute * task.Steps);
            client.ReportedComputeSecondsPerStep = compute;
        }
        else
        {
            perStep = elapsed / task.Steps;
            network = 0;
        }
        var first = client.SecondsPerStep is null;
        client.SecondsPerStep = SpeedEstimate.Next(client.SecondsPerStep, perStep, Options.SpeedMomentum);
        client.NetworkSeconds = first ? network : SpeedEstimate.Next(client.NetworkSeconds, network, Options.SpeedMomentum);
    }

    private int? RankFor(ClientRecord client)
    {
        if (Options.Ranks is not { } rule || client.RankSettled)
            return client.Rank;
        client.Rank = rule.RankFor(client.MemoryGiB, client.SecondsPerStep);
        client.RankSettled = client.SecondsPerStep is not null;
        return client.Rank;
    }

    private static ScheduledTask Describe(ClientRecord client, OpenTask task)
        => new(task.TaskId, client.ClientId, task.Steps, task.StartVersion, task.IssuedAt, task.Deadline, task.Rank, task.GroupId);
}
