namespace Federated.Core.Scheduling.Simulation;

/// <summary>
/// What stands in for training in a simulation: real training on a tiny model, or a cost model. The engine calls
/// <see cref="Train"/> when a task's update arrives (train from global version StartVersion) and
/// <see cref="Aggregate"/> for every aggregation the policy orders, in virtual-time order.
/// </summary>
public interface ISimulatedTraining
{
    /// <summary>The number of samples the update carries.</summary>
    long Train(SimulatedTask task);

    void Aggregate(AggregationOrder order);
}

/// <summary>A finished task whose update is about to reach the scheduler.</summary>
public sealed record SimulatedTask(int ClientIndex, ScheduledTask Task, double Start, double End);

/// <summary>No training: every update carries a fixed, per-client number of samples.</summary>
public sealed class NoTraining(long baseSamples = 100) : ISimulatedTraining
{
    public long Train(SimulatedTask task) => baseSamples + task.ClientIndex % 7;

    public void Aggregate(AggregationOrder order)
    {
    }
}
