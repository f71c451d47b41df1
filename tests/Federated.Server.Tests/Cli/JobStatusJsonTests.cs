using System.Text.Json.Nodes;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.Commands;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Cli;

/// <summary>`federated job status ID --json`: the job's status for scripts, the same object as results.json's "job"; errors on stderr only.</summary>
public class JobStatusJsonTests(ITestOutputHelper output)
{
    private static async Task<(int Code, string Stdout, string Stderr)> Cli(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await FederatedCli.Create().Parse(args).InvokeAsync(new() { Output = stdout, Error = stderr });
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task The_json_is_the_results_json_job_object_and_errors_leave_stdout_empty()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var server = await LocalServer.StartAsync(folder["server"], logger, cancellationToken: timeout.Token);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var operatorClient = new Operator.OperatorClient(channel);
        var spec = new JobSpec { JobId = "scripted", BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1, LocalSteps = 1, Scheduler = new SchedulerSpec { Policy = "synchronous" } };
        spec.Ranks.Add(2);
        await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = spec }, cancellationToken: timeout.Token);
        var coordinator = TestClients.Coordinator(channel);
        await coordinator.UploadRandomUpdate(await coordinator.EnrolAndTakeTask("scripter"), "scripter");
        var final = await LocalFederation.WatchAsync(operatorClient, "scripted", null, timeout.Token);
        Assert.Equal(JobState.Completed, final.State);

        // The same job as `federated run` writes it, through the same code.
        Directory.CreateDirectory(folder["run"]);
        var written = RunReport.Write(new LocalRunResult(final, 1.5, folder["run"]), new LocalRunSettings { OutputDirectory = folder["run"] });
        var expected = JsonNode.Parse(await File.ReadAllTextAsync(written[0], timeout.Token))!["job"];

        var dead = $"http://127.0.0.1:{FreePorts.Next()}";
        var (code, stdout, stderr) = await Cli("job", "status", "scripted", "--json", "--server", $"{dead},{server.GrpcAddress}");
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        var printed = JsonNode.Parse(stdout);
        Assert.True(JsonNode.DeepEquals(expected, printed), $"results.json has {expected}, the command printed {stdout}");
        Assert.Equal("scripted", printed!["jobId"]!.GetValue<string>());
        Assert.Equal("scripter", printed["rounds"]![0]!["participants"]![0]!["clientId"]!.GetValue<string>());

        (code, stdout, stderr) = await Cli("job", "status", "nobody", "--json", "--server", server.GrpcAddress);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("NotFound", stderr);
        Assert.Contains("nobody", stderr);

        (code, stdout, stderr) = await Cli("job", "status", "scripted", "--json", "--server", dead);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("Unavailable", stderr);
        Assert.Contains(dead, stderr);
    }
}
