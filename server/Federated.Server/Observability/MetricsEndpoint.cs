using Federated.Core.Configuration;
using Federated.Server.Dashboard;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Federated.Server.Observability;

/// <summary>
/// OpenTelemetry metrics — <see cref="FederatedMetrics"/> and Orleans' own meter — in Prometheus text on the
/// HTTP/1.1 port, when <see cref="MetricsOptions.Enabled"/> (the default).
/// </summary>
public static class MetricsEndpoint
{
    /// <summary>The meter Orleans publishes its silo, grain and messaging instruments under.</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>Reads and checks the options (failing at once, naming the field); registers the instruments and, when enabled, the exporter.</summary>
    public static MetricsOptions Add(WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        Validate(options);
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MetricsOptions>>(new AnnotatedOptionsValidator<MetricsOptions>(MetricsOptions.Section));
        builder.Services.AddSingleton<FederatedMetrics>();
        if (options.Enabled)
        {
            builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
                .AddMeter(FederatedMetrics.MeterName, OrleansMeter)
                // Scrapes are rare and cheap to render; a cached answer would hide what just happened.
                .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));
        }
        return options;
    }

    /// <summary>Serves the endpoint on <paramref name="httpPort"/> only (the gRPC port is for clients).</summary>
    public static void Use(WebApplication app, MetricsOptions options, int httpPort)
    {
        if (!options.Enabled)
            return;
        var path = new PathString(options.Path);
        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            meterProvider: null,
            predicate: context => context.Connection.LocalPort == httpPort && context.Request.Path == path,
            path: null,
            configureBranchedPipeline: null,
            optionsName: null);
    }

    private static void Validate(MetricsOptions options)
    {
        AnnotatedOptionsValidator<MetricsOptions>.ThrowIfInvalid(options, MetricsOptions.Section);
        var path = new PathString(options.Path);
        if (path.StartsWithSegments(HealthEndpoints.Path) || path.StartsWithSegments(DashboardEndpoints.Prefix) || path == "/")
            throw new OptionsValidationException(MetricsOptions.Section, typeof(MetricsOptions), [$"{MetricsOptions.Section}:Path: '{options.Path}' is taken by the health check, the dashboard or the root page; choose another path"]);
    }
}
