using System.Net;
using Federated.Core.Configuration;
using Federated.Server.Cluster;
using Federated.Server.Clients;
using Federated.Server.Dashboard;
using Federated.Server.Hosting.Tls;
using Federated.Server.Jobs;
using Federated.Server.Models;
using Federated.Server.Observability;
using Federated.Server.Storage;
using Federated.Server.Transport;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Serilog;

namespace Federated.Server.Hosting;

/// <summary>
/// Builds the coordinator: Kestrel with a gRPC (HTTP/2) endpoint and an HTTP/1.1 endpoint, a co-hosted
/// Orleans silo keeping grain state in files under the data directory, and the gRPC services. The server
/// executable, the command-line tool's in-process runs and the tests all start it through here.
/// </summary>
public static class FederatedServerHost
{
    /// <param name="args">Command-line arguments (configuration overrides such as --Server:GrpcPort=5001).</param>
    /// <param name="overrides">Configuration applied on top of appsettings.json, environment and arguments.</param>
    /// <param name="logger">Log to this Serilog logger instead of the one configured under "Serilog".</param>
    /// <param name="time">The clock every grain and service reads (deadlines, liveness, timestamps); the system clock unless a test brings a fake one.</param>
    public static WebApplication Build(string[] args, IReadOnlyDictionary<string, string?>? overrides = null, Serilog.ILogger? logger = null, TimeProvider? time = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args });
        if (overrides is not null)
            builder.Configuration.AddInMemoryCollection(overrides);

        var options = builder.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        Validate(options);
        ClusterHosting.PrepareDatabase(options);
        builder.Services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ServerOptions>>(new AnnotatedOptionsValidator<ServerOptions>(ServerOptions.Section));

        if (logger is not null)
        {
            // The caller's logger (tests, `federated run`) gets the same filter as the server's own; the wrapper
            // leaves the caller's logger undisposed.
            var filtered = new LoggerConfiguration().MinimumLevel.Verbose().Filter.ByExcluding(IsCallerFaultNoise).WriteTo.Logger(logger).CreateLogger();
            builder.Services.AddSerilog(filtered, dispose: true);
        }
        else
            builder.Services.AddSerilog((_, configuration) => ConfigureLogging(configuration, builder.Configuration));

        var security = TransportSecurity.For(options);
        builder.Services.AddSingleton(security);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Runs at start: the certificate is loaded or made (and its CA's fingerprint logged) only then.
            var https = security.Https(kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Federated.Server.Tls"));
            var address = IPAddress.Parse(options.ListenAddress);
            kestrel.Listen(address, options.GrpcPort, listen => Endpoint(listen, HttpProtocols.Http2, https));
            kestrel.Listen(address, options.HttpPort, listen => Endpoint(listen, HttpProtocols.Http1, https));
        });

        builder.Services.AddSingleton(time ?? TimeProvider.System);
        builder.Services.AddHostedService(_ => new PortCheck(options));
        var dashboard = DashboardEndpoints.AddDashboard(builder);
        Access.OperatorAccess.Add(builder, dashboard);
        var metrics = MetricsEndpoint.Add(builder);
        HealthEndpoints.Add(builder.Services);

        builder.UseOrleans(silo =>
        {
            if (dashboard.Enabled)
                Orleans.Dashboard.ServiceCollectionExtensions.AddDashboard(silo);
            silo.Services.AddFederatedGrainStateSerializer(); // every grain-state provider's format (MessagePack), the ADO.NET one's too
            ClusterHosting.Configure(silo, options);
        });

        builder.Services.AddSingleton<ClientIndex>();
        ClusterHosting.AddClientIndexUpdates(builder.Services, options);
        builder.Services.AddSingleton<JobCreation>();
        Access.AccessHosting.Add(builder, options);
        builder.Services.AddSingleton(_ => Storage.Blobs.AdapterStores.Create(options)); // disposed with the host (its database pool)
        builder.Services.AddSingleton<BaseModelRegistry>();
        builder.Services.AddSingleton(new EvaluationSources(options));
        builder.Services.AddSingleton<PartialUploads>();
        builder.Services.AddSingleton<UpdateReceiver>();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<Access.ClientAuthentication>();
            grpc.Interceptors.Add<Access.OperatorAuthorization>(); // outside ErrorInterceptor: it records outcomes as statuses
            grpc.Interceptors.Add<ErrorInterceptor>();
            grpc.MaxReceiveMessageSize = options.MaxChunkBytes + 64 * 1024;
            grpc.MaxSendMessageSize = options.MaxChunkBytes + 64 * 1024;
        });

        var app = builder.Build();
        UnparsableRequests.Use(app);
        MetricsEndpoint.Use(app, metrics, options.HttpPort);
        app.MapGrpcService<CoordinatorService>();
        app.MapGrpcService<OperatorService>();
        app.MapGrpcService<Access.AdminService>();
        Access.OperatorAccess.Map(app, options);
        HealthEndpoints.Map(app);
        DashboardEndpoints.MapDashboard(app, dashboard);
        app.MapGet("/", () => Results.Text($"Federated coordinator. gRPC (HTTP/2) on port {options.GrpcPort}; data in {options.DataPath}.\n"));
        return app;
    }

    private static void Endpoint(ListenOptions listen, HttpProtocols protocols, Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions? https)
    {
        listen.Protocols = protocols;
        if (https is not null)
            listen.UseHttps(https);
    }

    /// <summary>
    /// The framework's error lines for a caller's fault before any interceptor runs: a request body that is not
    /// protobuf (UnparsableRequests refuses and logs it once, at warning) or a caller that reset its request
    /// stream while it was read (it hung up; nothing failed here).
    /// </summary>
    private static bool IsCallerFaultNoise(Serilog.Events.LogEvent e)
        => e.Exception is Google.Protobuf.InvalidProtocolBufferException
           || (e.Exception is IOException && e.Properties.TryGetValue("SourceContext", out var source) && source.ToString().Contains("Grpc.AspNetCore.Server", StringComparison.Ordinal));

    /// <summary>Console logging at Information unless the "Serilog" configuration section says otherwise.</summary>
    public static void ConfigureLogging(LoggerConfiguration logging, IConfiguration configuration)
    {
        logging.Enrich.FromLogContext();
        logging.Filter.ByExcluding(IsCallerFaultNoise);
        if (configuration.GetSection("Serilog").Exists())
            logging.ReadFrom.Configuration(configuration);
        else
            logging.MinimumLevel.Information()
                .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("Orleans", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("Grpc", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("Polly", Serilog.Events.LogEventLevel.Warning)
                .WriteTo.Console();
    }

    /// <summary>Fails at once, naming the field, when the "Server" section is invalid (before Kestrel binds).</summary>
    private static void Validate(ServerOptions options)
    {
        AnnotatedOptionsValidator<ServerOptions>.ThrowIfInvalid(options, ServerOptions.Section);
        if (!IPAddress.TryParse(options.ListenAddress, out _))
            throw new OptionsValidationException(ServerOptions.Section, typeof(ServerOptions), [$"Server:ListenAddress: '{options.ListenAddress}' is not an IP address"]);
        if (options.GrpcPort == options.HttpPort)
            throw new OptionsValidationException(ServerOptions.Section, typeof(ServerOptions), [$"Server:GrpcPort and Server:HttpPort are both {options.GrpcPort}"]);
        var problems = EvaluationSources.Problems(options).Concat(options.Cluster.Problems()).Concat(TransportSecurity.Problems(options)).ToList();
        if (problems.Count > 0)
            throw new OptionsValidationException(ServerOptions.Section, typeof(ServerOptions), problems);
    }
}
