using Federated.Core.Scheduling;

namespace Federated.Core.Tests.Scheduling;

/// <summary>Small helpers for walking a policy through a hand-written timeline.</summary>
internal static class Timeline
{
    /// <summary>The client's open task arrives at <paramref name="now"/>.</summary>
    public static ScheduleDecision Arrive(this ISchedulingPolicy policy, string clientId, double now, long samples = 10, double? computePerStep = null)
        => policy.UpdateArrived(new UpdateReport(clientId, OpenTask(policy, clientId).TaskId, now, samples, computePerStep));

    public static OpenTask OpenTask(this ISchedulingPolicy policy, string clientId)
        => policy.State.Clients[clientId].Task ?? throw new InvalidOperationException($"{clientId} has no open task");

    public static ScheduledTask Single(this ScheduleDecision decision, string clientId)
        => Assert.Single(decision.Assignments, a => a.ClientId == clientId);

    public static AggregationOrder SingleAggregation(this ScheduleDecision decision)
        => Assert.Single(decision.Aggregations);

    public static WeightedUpdate Update(this AggregationOrder order, string clientId)
        => Assert.Single(order.Updates, u => u.ClientId == clientId);

    public static void Near(double expected, double actual) => Assert.Equal(expected, actual, 6);
}
