using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federated.Server.Tests.Transport;

/// <summary>A coordinator configured with tokens refuses calls without them.</summary>
public class TokenTests
{
    [Fact]
    public async Task Calls_without_the_right_token_are_unauthenticated()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None, settings: new Dictionary<string, string?>
        {
            ["Server:ClientToken"] = "client-secret",
            ["Server:OperatorToken"] = "operator-secret",
            ["Server:Enrolment:Open"] = "false",
        });
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var coordinator = TestClients.Coordinator(channel);
        var operatorClient = new Operator.OperatorClient(channel);

        var missing = await Updates.Refused(() => coordinator.EnrolAsync(new EnrolRequest { ClientId = "c1" }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.Contains("needs a join token", missing.Detail);
        var wrong = await Updates.Refused(() => coordinator.EnrolAsync(new EnrolRequest { ClientId = "c1" }, Bearer("operator-secret")).ResponseAsync);
        Assert.Contains("neither a client credential (fcc1.…) nor this server's shared client token", wrong.Detail);
        await coordinator.EnrolAsync(new EnrolRequest { ClientId = "c1" }, Bearer("client-secret"));

        var list = await Updates.Refused(() => operatorClient.ListJobsAsync(new ListJobsRequest(), Bearer("client-secret")).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, list.StatusCode);
        Assert.Contains("operator token", list.Detail);
        Assert.Empty((await operatorClient.ListJobsAsync(new ListJobsRequest(), Bearer("operator-secret"))).Jobs);
    }

    [Fact]
    public async Task A_client_daemon_with_the_token_trains()
    {
        using var folder = new TemporaryDirectory();
        var settings = new LocalRunSettings { Clients = 1, Rounds = 1, Ranks = [2], LocalSteps = 3, ExamplesPerClient = 20, EvaluationExamples = 10, OutputDirectory = folder.Path, JobId = "guarded" };
        var shard = LocalFederation.WriteClientData(settings, folder.Path).Single();
        await using var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None, settings: new Dictionary<string, string?> { ["Server:ClientToken"] = "s3cret" });
        await using var client = await LocalClient.StartAsync("client-1", server.GrpcAddress, shard, folder["work"], Serilog.Core.Logger.None, settings: new Dictionary<string, string?> { ["Client:Token"] = "s3cret" });
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var operatorClient = new Operator.OperatorClient(channel);
        await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = LocalFederation.JobSpec(settings) });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var final = await LocalFederation.WatchAsync(operatorClient, "guarded", null, timeout.Token);
        Assert.Equal(JobState.Completed, final.State);
    }

    private static Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };
}
