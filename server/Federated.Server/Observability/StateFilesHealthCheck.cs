using Federated.Server.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Federated.Server.Observability;

/// <summary>
/// Degraded while this process has found damaged grain state files (each moved aside, its job failed or its list
/// rebuilt), naming them: the server serves the rest, but an operator has files to look at.
/// </summary>
public sealed class StateFilesHealthCheck(DamagedStateFiles damaged) : IHealthCheck
{
    public const string Name = "state-files";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var found = damaged.All;
        return Task.FromResult(found.Count == 0
            ? HealthCheckResult.Healthy("every grain state file read so far parsed")
            : HealthCheckResult.Degraded($"{found.Count} damaged state file(s) moved aside: {string.Join("; ", found.Select(d => $"{d.Path} → {Path.GetFileName(d.MovedTo)} ({d.Problem})"))}"));
    }
}
