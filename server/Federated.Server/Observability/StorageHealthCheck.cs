using Federated.Server.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;
using Orleans.Storage;

namespace Federated.Server.Observability;

/// <summary>
/// Healthy when the grain-state provider writes a probe record and reads back what it wrote: the same
/// path every grain's state takes to disk (folder creation, temporary file, flush, rename).
/// </summary>
public sealed class StorageHealthCheck(IServiceProvider services, ILocalSiloDetails silo, TimeProvider time) : IHealthCheck
{
    public const string Name = "storage";

    // One record per silo (by its endpoint, stable across restarts): silos of a cluster share one store, and a
    // record written by two would read back as the other's.
    private readonly GrainId _probe = GrainId.Create("health-probe", "storage-" + silo.SiloAddress.Endpoint);

    // Probes run from /health, gRPC health and the periodic publisher; one at a time keeps the record's ETag theirs.
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var storage = services.GetRequiredKeyedService<IGrainStorage>(StorageNames.State);
            var record = new GrainState<ProbeRecord>();
            await storage.ReadStateAsync("probe", _probe, record).WaitAsync(cancellationToken);
            var written = new ProbeRecord { WrittenAt = time.GetUtcNow() };
            record.State = written;
            await storage.WriteStateAsync("probe", _probe, record).WaitAsync(cancellationToken);
            var read = new GrainState<ProbeRecord>();
            await storage.ReadStateAsync("probe", _probe, read).WaitAsync(cancellationToken);
            return read.State == written
                ? HealthCheckResult.Healthy("grain state was written and read back")
                : HealthCheckResult.Unhealthy($"grain state read back ({read.State?.WrittenAt:O}) is not what was written ({written.WrittenAt:O})");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"grain state could not be written and read back: {e.Message}", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The probe's state: settable, as the provider makes an empty one when there is no record yet.</summary>
    public sealed record ProbeRecord
    {
        public DateTimeOffset WrittenAt { get; init; }
    }
}
