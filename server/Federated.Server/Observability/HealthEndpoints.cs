using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Federated.Server.Observability;

/// <summary>
/// Whether the coordinator can do its work: the silo answers a grain call and the grain-state storage writes
/// and reads; degraded (still 200: the rest is served) while damaged state files were found and moved aside. Served as GET /health (200 healthy, 503 unhealthy, JSON naming each check) and as the standard
/// grpc.health.v1 service on the gRPC port (SERVING / NOT_SERVING), neither needing a token.
/// </summary>
public static class HealthEndpoints
{
    public const string Path = "/health";

    /// <summary>A check still running after this counts as unhealthy (a stuck silo or disk).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void Add(IServiceCollection services)
    {
        services.AddSingleton<StorageHealthCheck>();
        services.AddHealthChecks()
            .Add(new HealthCheckRegistration(SiloHealthCheck.Name, s => ActivatorUtilities.GetServiceOrCreateInstance<SiloHealthCheck>(s), HealthStatus.Unhealthy, [], Timeout))
            .Add(new HealthCheckRegistration(StorageHealthCheck.Name, s => s.GetRequiredService<StorageHealthCheck>(), HealthStatus.Unhealthy, [], Timeout))
            .Add(new HealthCheckRegistration(StateFilesHealthCheck.Name, s => ActivatorUtilities.GetServiceOrCreateInstance<StateFilesHealthCheck>(s), HealthStatus.Degraded, [], Timeout));
        services.AddGrpcHealthChecks();
    }

    public static void Map(WebApplication app)
    {
        app.MapHealthChecks(Path, new HealthCheckOptions
        {
            ResponseWriter = WriteAsync,
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });
        app.MapGrpcHealthChecksService();
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var body = new HealthView(
            Name(report.Status),
            [.. report.Entries.Select(e => new HealthCheckView(e.Key, Name(e.Value.Status), e.Value.Description, e.Value.Duration.TotalSeconds))]);
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, body, Json, context.RequestAborted);
    }

    private static string Name(HealthStatus status) => status.ToString().ToLowerInvariant();

    private sealed record HealthView(string Status, HealthCheckView[] Checks);

    private sealed record HealthCheckView(string Name, string Status, string? Description, double Seconds);
}
