namespace Federated.Core.Scheduling;

/// <summary>
/// FedAsync: each update becomes a new version on arrival, weight α·(τ + 1)^(−a)·w_k with w_k = n_k/N (federation
/// weighting) or 1 (batch weighting: the update is its whole batch); its client gets a new task at once.
/// </summary>
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
        Aggregate([update], now, groupId: null, (staleness, share) => Options.Alpha * Staleness.Polynomial(staleness, Options.StalenessExponent) * share, decision);
        Assign(client, Options.LocalSteps, now, deadline: null, groupId: null, decision);
    }
}

/// <summary>State of <see cref="FedAsyncPolicy"/>: only what every policy keeps.</summary>
public sealed class FedAsyncState : SchedulingState;
