namespace Federated.Core.Scheduling;

/// <summary>
/// FedBuff: arriving updates are buffered and their clients given new tasks at once; every K arrivals the buffer
/// becomes one version. Each update weighs α·S(τ)·n_k/N under federation weighting (APPFL's FedBuff), or S(τ)·(its
/// share of the buffer's samples) under batch weighting; S(τ) = (τ + 1)^(−a) when discounting, else 1.
/// </summary>
public sealed class FedBuffPolicy : SchedulingPolicy<FedBuffOptions, FedBuffState>
{
    internal FedBuffPolicy(FedBuffOptions options, FedBuffState state)
        : base(options, state)
    {
    }

    public override string Name => "fedbuff";

    public override double? NextDeadline => null;

    private protected override void OnReady(ClientRecord client, double now, DecisionBuilder decision)
        => Assign(client, Options.LocalSteps, now, deadline: null, groupId: null, decision);

    private protected override void OnUpdate(ClientRecord client, OpenTask task, PendingUpdate update, double now, DecisionBuilder decision)
    {
        State.Buffer.Add(update);
        if (State.Buffer.Count >= Options.BufferSize)
        {
            Aggregate(State.Buffer, now, groupId: null, Weight, decision);
            State.Buffer.Clear();
        }
        Assign(client, Options.LocalSteps, now, deadline: null, groupId: null, decision);
    }

    private double Weight(long staleness, double share)
    {
        var discounted = Options.DiscountStaleness ? share * Staleness.Polynomial(staleness, Options.StalenessExponent) : share;
        return Options.Weighting == UpdateWeighting.Federation ? Options.Alpha * discounted : discounted;
    }
}

/// <summary>State of <see cref="FedBuffPolicy"/>.</summary>
public sealed class FedBuffState : SchedulingState
{
    /// <summary>Updates in, not yet applied.</summary>
    public List<PendingUpdate> Buffer { get; set; } = [];
}
