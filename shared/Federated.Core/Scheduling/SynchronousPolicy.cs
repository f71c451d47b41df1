namespace Federated.Core.Scheduling;

/// <summary>
/// Synchronous rounds. A round hands tasks to up to ClientsPerRound clients, in the order they ask; its deadline
/// is set when its first task goes out. It closes when no task is open and the quorum is in (or every place has
/// returned), or at the deadline if the quorum is in; open tasks are then withdrawn. At a deadline without
/// quorum the open tasks are withdrawn, their places offered to waiting clients and the deadline moved on, so a
/// dead client never stalls a round. Updates are weighted by their share of the round's samples.
/// </summary>
public sealed class SynchronousPolicy : SchedulingPolicy<SynchronousOptions, SynchronousState>
{
    internal SynchronousPolicy(SynchronousOptions options, SynchronousState state)
        : base(options, state)
    {
    }

    public override string Name => "synchronous";

    public override double? NextDeadline => State.RoundDeadline;

    private protected override void OnReady(ClientRecord client, double now, DecisionBuilder decision)
    {
        if (!State.Queue.Contains(client.ClientId))
            State.Queue.Add(client.ClientId);
        FillPlaces(now, decision);
        if (client.Task is null)
            Wait(client, decision);
    }

    private protected override void OnUpdate(ClientRecord client, OpenTask task, PendingUpdate update, double now, DecisionBuilder decision)
    {
        client.MissedDeadlines = 0;
        State.Open.Remove(client.ClientId);
        State.Accepted.Add(update);
        State.Queue.Add(client.ClientId);
        Wait(client, decision);
        if (State.Accepted.Count >= Options.ClientsPerRound || (State.Open.Count == 0 && State.Accepted.Count >= Options.MinQuorum))
            Close(now, decision);
    }

    private protected override void OnDue(double now, DecisionBuilder decision)
    {
        if (State.Accepted.Count >= Options.MinQuorum)
        {
            Close(now, decision);
            return;
        }
        WithdrawOpenTasks(decision);
        State.RoundDeadline = null;
        FillPlaces(now, decision);
    }

    private protected override void OnLost(ClientRecord client, OpenTask? task, double now, DecisionBuilder decision)
    {
        State.Queue.Remove(client.ClientId);
        if (State.Open.Remove(client.ClientId))
        {
            FillPlaces(now, decision);
            if (State.Open.Count == 0 && State.Accepted.Count >= Options.MinQuorum)
                Close(now, decision);
        }
    }

    private void Close(double now, DecisionBuilder decision)
    {
        Aggregate(State.Accepted, now, groupId: null, (_, share) => share, decision);
        State.Accepted.Clear();
        WithdrawOpenTasks(decision);
        State.Round++;
        State.RoundDeadline = null;
        FillPlaces(now, decision);
    }

    private void WithdrawOpenTasks(DecisionBuilder decision)
    {
        foreach (var clientId in State.Open)
        {
            var client = State.Clients[clientId];
            decision.Cancelled.Add(client.Task!.TaskId);
            client.Task = null;
            client.MissedDeadlines++;
        }
        State.Open.Clear();
    }

    /// <summary>Gives the round's free places to queued clients, first come first served.</summary>
    private void FillPlaces(double now, DecisionBuilder decision)
    {
        var accepted = State.Accepted.Select(u => u.ClientId).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < State.Queue.Count && State.Open.Count + State.Accepted.Count < Options.ClientsPerRound;)
        {
            var client = State.Clients[State.Queue[i]];
            if (accepted.Contains(client.ClientId) || !client.Available)
            {
                i++;
                continue;
            }
            State.Queue.RemoveAt(i);
            State.RoundDeadline ??= now + Options.RoundDeadlineSeconds;
            Assign(client, Options.LocalSteps, now, State.RoundDeadline, groupId: null, decision);
            State.Open.Add(client.ClientId);
        }
    }
}

/// <summary>State of <see cref="SynchronousPolicy"/>.</summary>
public sealed class SynchronousState : SchedulingState
{
    /// <summary>The open round, from 1.</summary>
    public long Round { get; set; } = 1;

    /// <summary>Set when the round's first task goes out; null while no task has.</summary>
    public double? RoundDeadline { get; set; }

    /// <summary>Clients with an open task in this round.</summary>
    public List<string> Open { get; set; } = [];

    /// <summary>This round's updates, in arrival order.</summary>
    public List<PendingUpdate> Accepted { get; set; } = [];

    /// <summary>Idle clients waiting for a place, in the order they asked.</summary>
    public List<string> Queue { get; set; } = [];
}
