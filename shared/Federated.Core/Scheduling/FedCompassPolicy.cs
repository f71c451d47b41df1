namespace Federated.Core.Scheduling;

/// <summary>
/// FedCompass (Li et al., 2024): clients are sized by their measured speed so that arrival groups finish
/// together. A client's first task is Q_max steps and its first update is applied on its own. Then a returning
/// client joins the group whose expected time gives it the most steps q = ⌊(T_exp − now − n)/s⌋ within
/// [Q_min, Q_max] (n: its network seconds, 0 unless it reports compute time), or creates one sized to meet the
/// fastest member of an open group after that group's next aggregation. A group is aggregated when its last
/// member arrives or at its latest time T_max; members arriving after T_max get a new task at once and their
/// update waits for the next group aggregation. Weights are α·(τ + 1)^(−a)·w_k, w_k = n_k/N over the federation (as
/// the authors' APPFL aggregator) or over the aggregated updates (batch weighting); a group's update is their sum.
/// Beyond the paper: a client missing k deadlines in a row (its group's T_max, then λ × its task time again
/// while late) is marked unavailable.
/// </summary>
public sealed class FedCompassPolicy : SchedulingPolicy<FedCompassOptions, FedCompassState>
{
    private const double Slack = 1e-9;

    internal FedCompassPolicy(FedCompassOptions options, FedCompassState state)
        : base(options, state)
    {
    }

    public override string Name => "fedcompass";

    public override double? NextDeadline
    {
        get
        {
            double? next = null;
            foreach (var group in State.Groups.Values)
                next = next is { } n ? Math.Min(n, group.LatestTime) : group.LatestTime;
            foreach (var deadline in State.LateDeadlines.Values)
                next = next is { } n ? Math.Min(n, deadline) : deadline;
            return next;
        }
    }

    private protected override void OnReady(ClientRecord client, double now, DecisionBuilder decision)
    {
        if (client.SecondsPerStep is null)
            Assign(client, Options.MaxSteps, now, deadline: null, groupId: null, decision);
        else
            AssignToGroup(client, now, decision);
    }

    private protected override void OnUpdate(ClientRecord client, OpenTask task, PendingUpdate update, double now, DecisionBuilder decision)
    {
        State.LateDeadlines.Remove(client.ClientId);
        if (task.GroupId is null)
        {
            // A first task (or one given outside any group): applied on its own.
            Aggregate([update], now, groupId: null, Weight, decision);
            AssignToGroup(client, now, decision);
        }
        else if (State.Groups.TryGetValue(task.GroupId.Value, out var group))
        {
            client.MissedDeadlines = 0;
            group.Pending.Remove(client.ClientId);
            group.Arrived.Add(update);
            if (group.Pending.Count == 0)
                AggregateGroup(group, now, decision);
            else
                Wait(client, decision);
        }
        else
        {
            // Late: its group closed at T_max. The update waits for the next group; the client goes on now.
            State.Held.Add(update);
            AssignToGroup(client, now, decision);
        }
    }

    /// <summary>
    /// Handles what is due in time order: a group's T_max aggregates it; a late task's deadline counts a miss.
    /// Each pass sorts what is due once; a further pass picks up deadlines the first one moved but left due.
    /// </summary>
    private protected override void OnDue(double now, DecisionBuilder decision)
    {
        while (true)
        {
            var due = State.Groups.Values
                .Where(g => g.LatestTime <= now)
                .Select(g => (At: g.LatestTime, Group: (ArrivalGroup?)g, Client: ""))
                .Concat(State.LateDeadlines.Where(d => d.Value <= now).Select(d => (At: d.Value, Group: (ArrivalGroup?)null, Client: d.Key)))
                .OrderBy(x => x.At)
                .ThenBy(x => x.Group is null ? 1 : 0)
                .ThenBy(x => x.Group?.Id ?? 0)
                .ThenBy(x => x.Client, StringComparer.Ordinal)
                .ToList();
            if (due.Count == 0)
                return;
            foreach (var (at, group, client) in due)
            {
                if (group is not null)
                {
                    if (State.Groups.ContainsKey(group.Id))
                        AggregateGroup(group, now, decision);
                }
                else if (State.LateDeadlines.TryGetValue(client, out var deadline) && deadline == at)
                    MissDeadline(State.Clients[client], at, decision);
            }
        }
    }

    private protected override void OnLost(ClientRecord client, OpenTask? task, double now, DecisionBuilder decision)
    {
        State.LateDeadlines.Remove(client.ClientId);
        if (task?.GroupId is { } groupId && State.Groups.TryGetValue(groupId, out var group))
            LeaveGroup(group, client.ClientId, now, decision);
    }

    /// <summary>Removes a member that will not arrive; an emptied group is aggregated if anyone arrived, else dissolved.</summary>
    private void LeaveGroup(ArrivalGroup group, string clientId, double now, DecisionBuilder decision)
    {
        group.Pending.Remove(clientId);
        if (group.Pending.Count > 0)
            return;
        if (group.Arrived.Count > 0)
            AggregateGroup(group, now, decision);
        else
            State.Groups.Remove(group.Id);
    }

    private void AggregateGroup(ArrivalGroup group, double now, DecisionBuilder decision)
    {
        State.Groups.Remove(group.Id);
        var updates = group.Arrived.Concat(State.Held).ToList();
        State.Held.Clear();
        if (updates.Count > 0)
            Aggregate(updates, now, group.Id, Weight, decision);
        foreach (var clientId in group.Pending.Order(StringComparer.Ordinal))
        {
            var late = State.Clients[clientId];
            State.LateDeadlines[clientId] = group.LatestTime;
            MissDeadline(late, group.LatestTime, decision);
        }
        var returned = group.Arrived
            .Select(u => State.Clients[u.ClientId])
            .Where(c => c.Available && c.Task is null)
            .OrderBy(c => c.SecondsPerStep)
            .ThenBy(c => c.ClientId, StringComparer.Ordinal)
            .ToList();
        foreach (var client in returned)
            AssignToGroup(client, now, decision);
    }

    /// <summary>A late task passed a deadline: after k in a row the client is unavailable, else it gets λ × its task time more.</summary>
    private void MissDeadline(ClientRecord client, double deadline, DecisionBuilder decision)
    {
        client.MissedDeadlines++;
        if (client.MissedDeadlines >= Options.MaxMissedDeadlines)
        {
            State.LateDeadlines.Remove(client.ClientId);
            MarkUnavailable(client, decision);
            return;
        }
        var task = client.Task!;
        State.LateDeadlines[client.ClientId] = deadline + Options.Latest * Duration(client, task.Steps);
    }

    private void AssignToGroup(ClientRecord client, double now, DecisionBuilder decision)
    {
        var s = client.SecondsPerStep!.Value;
        var n = client.NetworkSeconds;

        ArrivalGroup? join = null;
        var joinSteps = 0;
        foreach (var group in State.Groups.Values)
        {
            if (group.ExpectedTime <= now)
                continue;
            var q = Steps((group.ExpectedTime - now - n) / s);
            if (q < Options.MinSteps || q > Options.MaxSteps)
                continue;
            if (join is null || q > joinSteps || (q == joinSteps && group.Id < join.Id))
                (join, joinSteps) = (group, q);
        }
        if (join is not null)
        {
            join.Pending.Add(client.ClientId);
            join.FastestSecondsPerStep = Math.Min(join.FastestSecondsPerStep, s);
            Assign(client, joinSteps, now, join.LatestTime, join.Id, decision);
            return;
        }

        int? best = null;
        foreach (var group in State.Groups.Values)
        {
            if (group.LatestTime <= now)
                continue;
            var q = Steps((group.LatestTime + group.FastestSecondsPerStep * Options.MaxSteps - now - n) / s);
            if (q <= Options.MaxSteps && (best is null || q > best))
                best = q;
        }
        var steps = Math.Max(best ?? Options.MaxSteps, Options.MinSteps);
        var created = new ArrivalGroup
        {
            Id = State.NextGroupId++,
            ExpectedTime = now + Duration(client, steps),
            LatestTime = now + Options.Latest * Duration(client, steps),
            FastestSecondsPerStep = s,
            Pending = [client.ClientId],
        };
        State.Groups[created.Id] = created;
        Assign(client, steps, now, created.LatestTime, created.Id, decision);
    }

    private static double Duration(ClientRecord client, int steps) => steps * client.SecondsPerStep!.Value + client.NetworkSeconds;

    /// <summary>⌊x⌋, forgiving rounding error just below an integer.</summary>
    private static int Steps(double x) => x >= int.MaxValue ? int.MaxValue : (int)Math.Floor(x + Slack);

    private double Weight(long staleness, double share) => Options.Alpha * Staleness.Polynomial(staleness, Options.StalenessExponent) * share;
}

/// <summary>State of <see cref="FedCompassPolicy"/>.</summary>
public sealed class FedCompassState : SchedulingState
{
    /// <summary>Open arrival groups by id.</summary>
    public Dictionary<long, ArrivalGroup> Groups { get; set; } = [];

    public long NextGroupId { get; set; } = 1;

    /// <summary>Late updates, applied at the next group aggregation.</summary>
    public List<PendingUpdate> Held { get; set; } = [];

    /// <summary>Clients whose group closed before they arrived, with the next deadline they can miss.</summary>
    public Dictionary<string, double> LateDeadlines { get; set; } = [];
}

/// <summary>Clients expected to arrive together: at <see cref="ExpectedTime"/>, at the latest <see cref="LatestTime"/>.</summary>
public sealed class ArrivalGroup
{
    public long Id { get; set; }

    public double ExpectedTime { get; set; }

    public double LatestTime { get; set; }

    /// <summary>f: the smallest seconds per step among members, as estimated when each was assigned.</summary>
    public double FastestSecondsPerStep { get; set; }

    /// <summary>Members still training.</summary>
    public HashSet<string> Pending { get; set; } = [];

    /// <summary>Updates of members that have arrived and wait for the group.</summary>
    public List<PendingUpdate> Arrived { get; set; } = [];
}
