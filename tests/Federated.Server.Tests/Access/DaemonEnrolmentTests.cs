using Federated.Client.Hosting;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Access;

/// <summary>A daemon spends its join token once, keeps the credential it gets (owner-only) and trains on it after a restart.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class DaemonEnrolmentTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_daemon_enrols_with_a_one_use_token_keeps_its_credential_and_works_with_it_after_a_restart()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var settings = new LocalRunSettings { Clients = 1, Rounds = 2, Ranks = [2], LocalSteps = 2, ExamplesPerClient = 20, EvaluationExamples = 10, OutputDirectory = folder.Path, JobId = "tokened" };
        var shard = LocalFederation.WriteClientData(settings, folder.Path).Single();
        await using var server = await TlsLoopbackServer.StartAsync(folder, logger, settings: new Dictionary<string, string?> { ["Server:Enrolment:Open"] = "false" });
        using var channel = server.Channel();
        var token = (await new Admin.AdminClient(channel).CreateJoinTokenAsync(new CreateJoinTokenRequest { Uses = 1, ExpiresInSeconds = 600 })).Token;
        var operatorClient = new Operator.OperatorClient(channel);
        var spec = LocalFederation.JobSpec(settings);
        spec.Rounds = 2;
        await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = spec });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        await using (var first = await LocalClient.StartAsync("edge", server.GrpcAddress, shard, folder["work"], logger, settings: new Dictionary<string, string?>(server.ClientTrustSettings) { ["Client:JoinToken"] = token }))
            await LocalFederation.WatchAsync(operatorClient, "tokened", null, timeout.Token, until: s => s.CompletedRounds >= 1);
        var path = Path.Combine(folder["work"], ClientCredentialStore.FileName);
        Assert.StartsWith("fcc1.edge.", await File.ReadAllTextAsync(path, timeout.Token));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        // The token is spent; the restarted daemon needs none, as it presents its credential.
        await using var second = await LocalClient.StartAsync("edge", server.GrpcAddress, shard, folder["work"], logger, settings: server.ClientTrustSettings);
        var final = await LocalFederation.WatchAsync(operatorClient, "tokened", null, timeout.Token);
        Assert.Equal(JobState.Completed, final.State);
        Assert.Null(second.Host.Services.GetRequiredService<DaemonHealth>().FatalError);
    }

    [Fact]
    public async Task A_daemon_without_a_token_stops_saying_why_instead_of_retrying_for_ever()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        await using var server = await TlsLoopbackServer.StartAsync(folder, logger, settings: new Dictionary<string, string?> { ["Server:Enrolment:Open"] = "false" });
        var data = folder["data.jsonl"];
        await File.WriteAllTextAsync(data, "{\"text\": \"hello\"}\n");
        await using var client = await LocalClient.StartAsync("tokenless", server.GrpcAddress, data, folder["work"], logger, settings: server.ClientTrustSettings);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var stopped = new TaskCompletionSource();
        client.Host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(stopped.SetResult);
        await stopped.Task.WaitAsync(timeout.Token);
        Assert.Contains("needs a join token", client.Host.Services.GetRequiredService<DaemonHealth>().FatalError);
    }
}
