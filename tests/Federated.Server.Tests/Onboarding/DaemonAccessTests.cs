using Federated.Client.Hosting;
using Federated.Contracts.Clients;
using Federated.Server.Clients;
using Federated.Simulations.LocalRuns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Onboarding;

/// <summary>
/// What the daemon does about its access: it starts from the settings file `enrol` wrote, refuses another client's
/// credential, and stops (rather than retrying forever) when the coordinator refuses it.
/// </summary>
public class DaemonAccessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_daemon_whose_join_token_is_refused_stops_with_the_reason_and_the_next_step()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        await using var server = await LocalServer.StartAsync(folder["server"], logger, settings: new Dictionary<string, string?> { ["Server:Enrolment:Open"] = "false" });
        using var host = Daemon(folder, server.GrpcAddress, logger, new() { ["Client:JoinToken"] = "fjt1.000000000000.bm90LWlzc3VlZA" });

        await RunUntilStopped(host);

        var health = host.Services.GetRequiredService<DaemonHealth>();
        Assert.NotNull(health.FatalError);
        Assert.StartsWith("the coordinator refused this client's enrolment (Unauthenticated): ", health.FatalError);
        Assert.EndsWith($"ask an operator for a new join token and run `Federated.Client enrol --server {server.GrpcAddress} --join-token TOKEN` (or set Client:JoinToken)", health.FatalError);
        Assert.Equal(0, health.Unreachable);
        Assert.False(File.Exists(folder["work/credential"]));
    }

    [Fact]
    public async Task A_daemon_an_operator_removed_stops_saying_its_credential_was_refused()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        await using var server = await LocalServer.StartAsync(folder["server"], logger); // open enrolment: a credential without a join token
        using var host = Daemon(folder, server.GrpcAddress, logger, []);
        var stopped = new TaskCompletionSource();
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopped.TrySetResult());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        var index = server.App.Services.GetRequiredService<ClientIndex>();
        await index.UntilAsync(() => Task.FromResult(index.TryGet("edge-1", out _)), TimeSpan.FromSeconds(1), timeout.Token);

        await server.App.Services.GetRequiredService<IGrainFactory>().GetGrain<IClientGrain>("edge-1").SetAdmission(ClientAdmission.Removed);
        await stopped.Task.WaitAsync(timeout.Token);
        await host.StopAsync();

        Assert.StartsWith("fcc1.edge-1.", File.ReadAllText(folder["work/credential"])); // kept: only a new join token replaces it

        var reason = host.Services.GetRequiredService<DaemonHealth>().FatalError;
        Assert.NotNull(reason);
        Assert.StartsWith("the coordinator refused this client's credential (Unauthenticated): ", reason);
        Assert.Contains("removed by an operator; its credential is revoked", reason);
        Assert.Contains("its id may not enrol again", reason);
        Assert.EndsWith($"ask an operator for a new join token and run `Federated.Client enrol --server {server.GrpcAddress} --join-token TOKEN --client-id NEW-ID` (a removed id cannot enrol again)", reason);
    }

    [Fact]
    public async Task A_daemon_holding_another_clients_credential_does_not_start()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        new ClientCredentialStore(Options.Create(new ClientOptions { WorkDirectory = folder["work"] })).Save("fcc1.edge-1.c2VjcmV0", "edge-1");
        using var host = ClientDaemonHost.Build([], new Dictionary<string, string?>
        {
            ["Client:ServerAddress"] = "http://127.0.0.1:1",
            ["Client:ClientId"] = "edge-2",
            ["Client:DataPath"] = folder["train.jsonl"],
            ["Client:WorkDirectory"] = folder["work"],
        }, logger, standalone: false);

        await RunUntilStopped(host);

        var reason = host.Services.GetRequiredService<DaemonHealth>().FatalError;
        Assert.Equal($"{folder["work/credential"]} belongs to client 'edge-1', but this client's id is 'edge-2' (Client:ClientId): a credential is bound to its client id; set Client:ClientId to 'edge-1', or enrol 'edge-2' with a new join token (Federated.Client enrol)", reason);
    }

    [Fact]
    public void The_daemon_reads_the_settings_file_named_by_config_over_its_defaults()
    {
        using var folder = new TemporaryDirectory();
        File.WriteAllText(folder["client.json"], """{ "Client": { "ServerAddress": "http://coordinator.example:50051", "ClientId": "edge-7", "WorkDirectory": "/var/lib/federated-client" } }""");

        foreach (var args in new[] { new[] { "--config", folder["client.json"] }, [$"--config={folder["client.json"]}"] })
        {
            using var host = ClientDaemonHost.Build(args);
            var options = host.Services.GetRequiredService<IOptions<ClientOptions>>().Value;
            Assert.Equal("http://coordinator.example:50051", options.ServerAddress);
            Assert.Equal("edge-7", options.ClientId);
            Assert.Equal("/var/lib/federated-client", options.WorkDirectory);
            Assert.Equal(20, options.PollWaitSeconds); // the rest stays at client.appsettings.json's values
        }
    }

    [Fact]
    public void A_settings_file_named_by_config_that_is_missing_is_named()
    {
        using var folder = new TemporaryDirectory();
        var error = Assert.Throws<FileNotFoundException>(() => ClientDaemonHost.Build(["--config", folder["nowhere.json"]]));
        Assert.Equal($"--config {folder["nowhere.json"]}: no such settings file (`Federated.Client enrol` writes it)", error.Message);
    }

    private static IHost Daemon(TemporaryDirectory folder, string server, Serilog.ILogger logger, Dictionary<string, string?> extra)
    {
        var data = folder["train.jsonl"];
        File.WriteAllLines(data, ["""{"prompt":"a","completion":"b"}"""]);
        var settings = new Dictionary<string, string?>
        {
            ["Client:ServerAddress"] = server,
            ["Client:ClientId"] = "edge-1",
            ["Client:DataPath"] = data,
            ["Client:WorkDirectory"] = folder["work"],
            ["Client:Device"] = "Cpu",
            ["Client:PollWaitSeconds"] = "1",
            ["Client:ReconnectMinSeconds"] = "0.05",
            ["Client:ReconnectMaxSeconds"] = "0.05",
        };
        foreach (var (key, value) in extra)
            settings[key] = value;
        return ClientDaemonHost.Build([], settings, logger, standalone: false);
    }

    private static async Task RunUntilStopped(IHost host)
    {
        var stopped = new TaskCompletionSource();
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopped.TrySetResult());
        await host.StartAsync();
        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await host.StopAsync();
    }
}
