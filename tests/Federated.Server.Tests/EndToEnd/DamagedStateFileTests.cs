using System.Net;
using System.Text.Json;
using Federated.Contracts.Clients;
using Federated.Protos.V1;
using Federated.Server.Storage;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Federated.Server.Tests.EndToEnd;

/// <summary>
/// A grain state file that no longer parses (truncated, overwritten) is moved aside, never deleted; the job it
/// belongs to fails naming the file; every other job lists and hands out work; /health says what was found.
/// </summary>
public class DamagedStateFileTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_truncated_job_file_fails_that_job_naming_the_file_and_the_other_job_lists_and_runs()
    {
        using var folder = new TemporaryDirectory();
        var serverData = await TwoJobs(folder);
        var file = Path.Combine(serverData, "state", "job", "broken.job.state");
        var original = await Truncate(file);

        await using var logger = TestLogging.For(output);
        await using var server = await LocalServer.StartAsync(serverData, logger);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var operatorClient = new Operator.OperatorClient(channel);

        var jobs = (await operatorClient.ListJobsAsync(new ListJobsRequest())).Jobs.ToDictionary(j => j.JobId);
        Assert.Equal(["broken", "healthy"], jobs.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(JobState.Failed, jobs["broken"].State);
        Assert.Contains($"state file {file} is damaged (truncated", jobs["broken"].Error);
        Assert.Equal(JobState.Running, jobs["healthy"].State);
        Assert.Equal("healthy", (await TestClients.Coordinator(channel).EnrolAndTakeTask("second", waitSeconds: 0)).JobId);

        AssertMovedAside(file, original, jobs["broken"].Error);
        var (status, body) = await Health(server);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("degraded", body.GetProperty("status").GetString());
        Assert.Contains(file, StateFilesCheck(body));

        // The failure is on disk: the next start reads it back, and nothing is damaged any more.
        await server.StopAsync();
        await using var again = await LocalServer.StartAsync(serverData, logger);
        using var channel2 = GrpcChannel.ForAddress(again.GrpcAddress);
        var broken = await new Operator.OperatorClient(channel2).GetJobAsync(new GetJobRequest { JobId = "broken" });
        Assert.Equal(JobState.Failed, broken.State);
        Assert.Contains(file, broken.Error);
        Assert.Equal("healthy", (await Health(again)).Body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_damaged_job_directory_is_rebuilt_from_the_job_files_and_hides_no_job()
    {
        using var folder = new TemporaryDirectory();
        var serverData = await TwoJobs(folder);
        var file = Path.Combine(serverData, "state", "job-directory", "0.jobs.state");
        var original = await Truncate(file);

        await using var logger = TestLogging.For(output);
        await using var server = await LocalServer.StartAsync(serverData, logger);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var jobs = (await new Operator.OperatorClient(channel).ListJobsAsync(new ListJobsRequest())).Jobs;
        Assert.Equal(["broken:Running", "healthy:Running"], jobs.Select(j => $"{j.JobId}:{j.State}").Order(StringComparer.Ordinal));
        // Both are active again: a new client is handed work by one of them.
        Assert.Contains((await TestClients.Coordinator(channel).EnrolAndTakeTask("second", waitSeconds: 0)).JobId, new[] { "broken", "healthy" });
        AssertMovedAside(file, original, null);
        Assert.Contains(file, StateFilesCheck((await Health(server)).Body));
    }

    [Fact]
    public async Task A_damaged_scheduler_file_fails_its_job_naming_the_file_and_the_other_job_runs()
    {
        using var folder = new TemporaryDirectory();
        var serverData = await TwoJobs(folder);
        var file = Path.Combine(serverData, "state", "scheduler", "broken.scheduler.state");
        var original = await Truncate(file);

        await using var logger = TestLogging.For(output);
        await using var server = await LocalServer.StartAsync(serverData, logger);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var operatorClient = new Operator.OperatorClient(channel);
        Assert.Equal("healthy", (await TestClients.Coordinator(channel).EnrolAndTakeTask("second", waitSeconds: 0)).JobId);
        var broken = await operatorClient.GetJobAsync(new GetJobRequest { JobId = "broken" });
        Assert.Equal(JobState.Failed, broken.State);
        Assert.Contains($"job 'broken': its scheduler's state file {file} is damaged", broken.Error);
        Assert.Equal(2, (await operatorClient.ListJobsAsync(new ListJobsRequest())).Jobs.Count);
        AssertMovedAside(file, original, broken.Error);
    }

    [Fact]
    public async Task A_damaged_client_file_is_restored_from_its_second_copy_keeping_credential_admission_and_task()
    {
        using var folder = new TemporaryDirectory();
        var serverData = await TwoJobs(folder, pauseFirst: true);
        var file = Path.Combine(serverData, "state", "client", "first.client.state");
        Assert.True(File.Exists(file + FileGrainStorage.MirrorSuffix));
        var original = await Truncate(file);

        await using var logger = TestLogging.For(output);
        await using var server = await LocalServer.StartAsync(serverData, logger);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var snapshot = await server.App.Services.GetRequiredService<IGrainFactory>().GetGrain<IClientGrain>("first").GetSnapshot();
        Assert.Equal(ClientAdmission.Paused, snapshot.Admission); // the operator's pause holds
        await new Operator.OperatorClient(channel).ResumeClientAsync(new ClientActionRequest { ClientId = "first" });
        // Its own credential still works, and it gets its task back.
        var task = (await TestClients.Coordinator(channel).Poll("first", waitSeconds: 0)).Task;
        Assert.Equal("broken", task.JobId);
        AssertMovedAside(file, original, null);
        var (status, body) = await Health(server);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain("first.client.state", StateFilesCheck(body)); // restored: nothing for an operator to mend
    }

    [Fact]
    public async Task A_client_whose_two_copies_are_damaged_costs_that_client_its_enrolment_only()
    {
        using var folder = new TemporaryDirectory();
        var serverData = await TwoJobs(folder);
        var file = Path.Combine(serverData, "state", "client", "first.client.state");
        await Truncate(file + FileGrainStorage.MirrorSuffix);
        var original = await Truncate(file);

        await using var logger = TestLogging.For(output);
        await using var server = await LocalServer.StartAsync(serverData, logger);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var coordinator = TestClients.Coordinator(channel);
        var refused = await Updates.Refused(() => coordinator.Poll("first", waitSeconds: 0));
        Assert.Contains("not enrolled", refused.Detail);
        Assert.NotNull(await coordinator.EnrolAndTakeTask("first", waitSeconds: 0)); // it enrols again and gets work
        Assert.Equal(2, (await new Operator.OperatorClient(channel).ListJobsAsync(new ListJobsRequest())).Jobs.Count);
        AssertMovedAside(file, original, null);
    }

    /// <summary>A first life: jobs "broken" and "healthy", with client "first" holding a task of "broken" (so its scheduler state is saved).</summary>
    private async Task<string> TwoJobs(TemporaryDirectory folder, bool pauseFirst = false)
    {
        var serverData = folder["server"];
        await using var logger = TestLogging.For(output);
        await using var server = await LocalServer.StartAsync(serverData, logger);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var operatorClient = new Operator.OperatorClient(channel);
        await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = Spec("broken") });
        Assert.Equal("broken", (await TestClients.Coordinator(channel).EnrolAndTakeTask("first")).JobId);
        await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = Spec("healthy") });
        if (pauseFirst)
            await operatorClient.PauseClientAsync(new ClientActionRequest { ClientId = "first" });
        return serverData;
    }

    /// <summary>Cuts the file in half, as a crash of the disk (not of the server, whose writes are atomic) would.</summary>
    private static async Task<byte[]> Truncate(string file)
    {
        var bytes = await File.ReadAllBytesAsync(file);
        await File.WriteAllBytesAsync(file, bytes[..(bytes.Length / 2)]);
        return bytes[..(bytes.Length / 2)];
    }

    private static void AssertMovedAside(string file, byte[] damagedBytes, string? error)
    {
        var aside = Directory.GetFiles(Path.GetDirectoryName(file)!, Path.GetFileName(file) + ".damaged-*");
        var moved = Assert.Single(aside);
        Assert.Equal(damagedBytes, File.ReadAllBytes(moved)); // kept as it was, for an operator
        if (error is not null)
            Assert.Contains(Path.GetFileName(moved), error);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Health(LocalServer server)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.HttpAddress) };
        using var response = await http.GetAsync("/health");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, document.RootElement.Clone());
    }

    private static string StateFilesCheck(JsonElement body)
        => body.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "state-files").GetProperty("description").GetString()!;

    private static JobSpec Spec(string jobId)
    {
        var spec = new JobSpec { JobId = jobId, BaseModel = "builtin:tiny", Rounds = 2, LocalSteps = 1, Scheduler = new SchedulerSpec { Policy = "fedasync" } };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        return spec;
    }
}
