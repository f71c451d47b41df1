using Orleans.Concurrency;

namespace Federated.Server.Observability;

/// <summary>Answers at once: a call that comes back shows the silo activates grains and runs their calls.</summary>
public interface IHealthProbeGrain : IGrainWithIntegerKey
{
    Task<bool> Ping();
}

[GrainType("health-probe")]
[StatelessWorker]
public sealed class HealthProbeGrain : Grain, IHealthProbeGrain
{
    public Task<bool> Ping() => Task.FromResult(true);
}
