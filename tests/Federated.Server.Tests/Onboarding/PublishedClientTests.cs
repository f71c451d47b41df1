using System.Diagnostics;
using System.Text.Json;
using Federated.Protos.V1;
using Federated.Server.Access;
using Federated.Server.Tests.Cluster.Processes;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Onboarding;

/// <summary>
/// "Add an edge machine" as the README gives it, minus systemd: `dotnet publish` with the linux-x64 profile, then,
/// from a clean directory and with no .NET beside it, the published `Federated.Client enrol` with a join token and
/// the published daemon started from the settings file it wrote, until the job's first round is aggregated.
/// </summary>
[Collection(PublishedClientCollection.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class PublishedClientTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_published_folder_enrols_with_a_join_token_and_trains_a_round_from_a_clean_directory()
    {
        using var folder = new TemporaryDirectory();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        var published = folder["published"];
        var clock = Stopwatch.StartNew();
        await PublishAsync(published, timeout.Token);
        var bytes = new DirectoryInfo(published).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        output.WriteLine($"published in {clock.Elapsed.TotalSeconds:F0} s: {bytes / (1024 * 1024)} MiB");
        AssertSelfContained(published);

        await using var logger = TestLogging.For(output, Serilog.Events.LogEventLevel.Warning);
        await using var server = await LocalServer.StartAsync(folder["server"], logger, settings: new Dictionary<string, string?> { ["Server:SchedulerTickSeconds"] = "1", ["Server:Enrolment:Open"] = "false", ["Server:Tls:Mode"] = "On" }, cancellationToken: timeout.Token);
        // As deployed: TLS with the CA the coordinator made, which the edge machine trusts by the fingerprint it was given.
        Assert.StartsWith("https://", server.GrpcAddress);
        var fingerprint = server.App.Services.GetRequiredService<Federated.Server.Hosting.Tls.TransportSecurity>().CaFingerprint!;
        var (_, joinToken) = await server.App.Services.GetRequiredService<JoinTokenIssuer>().CreateAsync(1, TimeSpan.FromHours(1), "published client test", "test");
        var settings = new LocalRunSettings { Clients = 1, Rounds = 1, Ranks = [2], LocalSteps = 3, ExamplesPerClient = 20, EvaluationExamples = 10, OutputDirectory = folder["run"], JobId = "edge-job" };
        var edge = folder["edge"];
        Directory.CreateDirectory(edge);
        File.Copy(LocalFederation.WriteClientData(settings, folder["run"]).Single(), Path.Combine(edge, "train.jsonl"));
        var executable = Path.Combine(published, "Federated.Client");

        await using (var enrol = ChildProcess.StartExecutable("enrol", executable,
            ["enrol", "--server", server.GrpcAddress, "--join-token", joinToken, "--ca-fingerprint", fingerprint, "--client-id", "edge-1", "--config", "etc/client.json", "--work-dir", "state", "--data", "train.jsonl"],
            edge, EdgeEnvironment()))
        {
            var status = await enrol.WaitForExitAsync(timeout.Token);
            output.WriteLine(enrol.Tail());
            Assert.Equal(0, status);
            Assert.Contains(enrol.Lines, line => line.StartsWith($"Enrolled as edge-1 with {server.GrpcAddress} (", StringComparison.Ordinal));
        }
        var written = JsonDocument.Parse(File.ReadAllText(Path.Combine(edge, "etc", "client.json"))).RootElement.GetProperty("Client");
        Assert.Equal(server.GrpcAddress, written.GetProperty("ServerAddress").GetString());
        Assert.Equal("edge-1", written.GetProperty("ClientId").GetString());
        Assert.Equal(fingerprint, written.GetProperty("ServerCaFingerprint").GetString());
        Assert.Equal(Path.Combine(edge, "state"), written.GetProperty("WorkDirectory").GetString());
        Assert.Equal(Path.Combine(edge, "train.jsonl"), written.GetProperty("DataPath").GetString());
        var credential = Path.Combine(edge, "state", "credential");
        var given = File.ReadAllText(credential).Trim();
        Assert.StartsWith("fcc1.edge-1.", given, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(credential));

        await using var daemon = ChildProcess.StartExecutable("daemon", executable,
            ["--config", "etc/client.json", "--Client:Device=Cpu", "--Client:Threads=1", "--Client:PollWaitSeconds=2"],
            edge, EdgeEnvironment());
        using var channel = Federated.Protos.GrpcChannels.Create(server.GrpcAddress, trust: new Federated.Protos.ServerTrust(CaFingerprint: fingerprint));
        var operatorClient = new Operator.OperatorClient(channel);
        var spec = LocalFederation.JobSpec(settings);
        spec.ClientRanks.Clear();
        await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = spec }, cancellationToken: timeout.Token);
        JobStatus final;
        try
        {
            final = await LocalFederation.WatchAsync(operatorClient, settings.JobId, null, timeout.Token);
        }
        finally
        {
            output.WriteLine(daemon.Tail(80));
        }
        Assert.Equal(JobState.Completed, final.State);
        Assert.Equal("edge-1", final.Rounds.Single().Participants.Single().ClientId);
        Assert.False(daemon.HasExited);
        Assert.Equal(given, File.ReadAllText(credential).Trim()); // the daemon went on with the credential enrol kept
    }

    private async Task PublishAsync(string folder, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = TestModels.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "publish", "client/Federated.Client/Federated.Client.csproj", "-c", "Release", "-p:PublishProfile=linux-x64", $"-p:PublishDir={folder}/", "--disable-build-servers", "-v:minimal" })
            start.ArgumentList.Add(argument);
        // The test host's own MSBuild variables would point the child build at this run's SDK internals.
        foreach (var variable in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(variable);
        using var publish = Process.Start(start) ?? throw new InvalidOperationException("dotnet publish did not start");
        var standardOutput = publish.StandardOutput.ReadToEndAsync(cancellationToken);
        var standardError = publish.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await publish.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            publish.Kill(entireProcessTree: true);
            throw;
        }
        var log = await standardOutput + await standardError;
        output.WriteLine(log);
        Assert.True(publish.ExitCode == 0, $"dotnet publish failed ({publish.ExitCode})");
    }

    /// <summary>
    /// Self-contained (the runtime inside, none named to look for), with the unit and its installer. Whether its
    /// libLibTorchSharp.so loads (the build patches the published copy for Debian 12's libstdc++) the daemon's
    /// training shows.
    /// </summary>
    private static void AssertSelfContained(string published)
    {
        var runtime = JsonDocument.Parse(File.ReadAllText(Path.Combine(published, "Federated.Client.runtimeconfig.json"))).RootElement.GetProperty("runtimeOptions");
        Assert.True(runtime.TryGetProperty("includedFrameworks", out _), "the runtimeconfig names no included framework: not self-contained");
        Assert.False(runtime.TryGetProperty("framework", out _) || runtime.TryGetProperty("frameworks", out _));
        foreach (var file in new[] { "Federated.Client", "libcoreclr.so", "libtorch_cpu.so", "libLibTorchSharp.so", "client.appsettings.json", "federated-client.service", "install-systemd.sh" })
            Assert.True(File.Exists(Path.Combine(published, file)), $"{file} is not in the published folder");
        Assert.True(File.GetUnixFileMode(Path.Combine(published, "install-systemd.sh")).HasFlag(UnixFileMode.UserExecute), "install-systemd.sh is not executable");
    }

    /// <summary>An edge machine's environment: no .NET to find, nothing of this build's.</summary>
    private static Dictionary<string, string?> EdgeEnvironment()
    {
        var environment = new Dictionary<string, string?> { ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin", ["DOTNET_ROOT"] = "/nonexistent/dotnet", ["DOTNET_HOST_PATH"] = null };
        foreach (var variable in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("FEDERATED_", StringComparison.Ordinal)))
            environment[variable] = null;
        return environment;
    }
}

/// <summary>The publish and the two processes run alone: a publish on a loaded machine would only slow the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PublishedClientCollection
{
    public const string Name = "Published client";
}
