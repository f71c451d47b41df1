using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Federated.Server.Observability;

/// <summary>Healthy when a grain call comes back; the health-check service cancels it after its timeout.</summary>
public sealed class SiloHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public const string Name = "silo";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await grains.GetGrain<IHealthProbeGrain>(0).Ping().WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy("a grain call came back");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"a grain call failed: {e.Message}", e);
        }
    }
}
