using Federated.Client.Training;
using Federated.Client.Transport;
using Federated.Core.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Serilog;

namespace Federated.Client.Hosting;

/// <summary>Builds the client daemon's host. The executable and in-process simulations share this wiring.</summary>
public static class ClientDaemonHost
{
    public const string SettingsFile = "client.appsettings.json";

    /// <summary>The option naming a settings file written by `Federated.Client enrol` (the systemd unit passes it).</summary>
    public const string ConfigOption = "--config";

    /// <param name="args">
    /// Command-line arguments: --config PATH (a settings file, read after client.appsettings.json and before the
    /// environment), --Client:ServerAddress=… and the like.
    /// </param>
    /// <param name="overrides">Configuration applied last.</param>
    /// <param name="logger">Log to this Serilog logger instead of the configured one.</param>
    /// <param name="standalone">
    /// True for the executable: read client.appsettings.json, FEDERATED_CLIENT__-style environment variables
    /// and arguments. False for in-process clients, configured by <paramref name="overrides"/> alone.
    /// </param>
    public static IHost Build(string[] args, IReadOnlyDictionary<string, string?>? overrides = null, Serilog.ILogger? logger = null, bool standalone = true)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, DisableDefaults = !standalone });
        if (standalone)
        {
            builder.Configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, SettingsFile), optional: true);
            builder.Configuration.AddJsonFile(SettingsFile, optional: true);
            if (ConfigPath(args) is { } config)
            {
                if (!File.Exists(config))
                    throw new FileNotFoundException($"{ConfigOption} {config}: no such settings file (`Federated.Client enrol` writes it)", config);
                builder.Configuration.AddJsonFile(Path.GetFullPath(config), optional: false);
            }
            builder.Configuration.AddEnvironmentVariables("FEDERATED_");
            builder.Configuration.AddCommandLine(args);
        }
        if (overrides is not null)
            builder.Configuration.AddInMemoryCollection(overrides);

        builder.Services.AddOptions<ClientOptions>().BindConfiguration(ClientOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ClientOptions>>(new AnnotatedOptionsValidator<ClientOptions>(ClientOptions.Section));
        if (logger is not null)
        {
            builder.Services.AddSerilog(logger, dispose: false);
        }
        else
        {
            builder.Services.AddSerilog((_, logging) =>
            {
                logging.Enrich.FromLogContext();
                if (builder.Configuration.GetSection("Serilog").Exists())
                    logging.ReadFrom.Configuration(builder.Configuration);
                else
                    logging.MinimumLevel.Information().MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning).WriteTo.Console();
            });
        }

        builder.Services.AddSingleton<ClientCredentialStore>();
        builder.Services.AddSingleton<CoordinatorConnection>();
        builder.Services.AddSingleton<ActivityTracker>();
        builder.Services.AddSingleton<DaemonHealth>();
        builder.Services.AddSingleton<LocalDataset>();
        builder.Services.AddSingleton<UpdateUploader>();
        builder.Services.AddSingleton<TransportRetry>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TaskRunner>();
        builder.Services.AddHostedService<ClientDaemon>();
        return builder.Build();
    }

    /// <summary>The value of --config PATH or --config=PATH, if given.</summary>
    public static string? ConfigPath(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == ConfigOption)
                return i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[i + 1] : throw new ArgumentException($"{ConfigOption} needs a path");
            if (args[i].StartsWith(ConfigOption + "=", StringComparison.Ordinal))
                return args[i][(ConfigOption.Length + 1)..];
        }
        return null;
    }
}
