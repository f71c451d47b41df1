namespace Federated.Core.Scheduling;

/// <summary>FedAsync: each update becomes a new version on arrival, weight α·(staleness + 1)^(−a); its client gets a new task at once.</summary>
public sealed class FedAsyncPolicy : SchedulingPolicy<FedAsyncOptions, FedAsyncState>
{
    internal FedAsyncPolicy(FedAsyncOptions options, FedAsyncState state)
        : base(options, state)
    {
    }

    public override string Name => "fedasync";

    public override double? NextDeadline => null;

    private protected override void OnReady(ClientRecord client, double now, DecisionBuilder decision)
        => Assign(client, Options.LocalSteps, now, deadline: null, groupId: null, decision);

    private protected override void OnUpdate(ClientRecord client, OpenTask task, PendingUpdate update, double now, DecisionBuilder decision)
    {
        Aggregate([update], now, groupId: null, (staleness, _) => Options.Alpha * Staleness.Polynomial(staleness, Options.StalenessExponent), decision);
        Assign(client, Options.LocalSteps, now, deadline: null, groupId: null, decision);
    }
}

/// <summary>State of <see cref="FedAsyncPolicy"/>: only what every policy keeps.</summary>
public sealed class FedAsyncState : SchedulingState;
