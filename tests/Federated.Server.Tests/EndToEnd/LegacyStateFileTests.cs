using System.Text.Json;
using System.Text.Json.Serialization;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Federated.Server.Tests.EndToEnd;

/// <summary>A data directory written before MessagePack (JSON state files) starts as it was and is migrated as its grains write.</summary>
public class LegacyStateFileTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Json_state_files_of_an_earlier_version_are_read_and_replaced_at_the_next_write()
    {
        using var folder = new TemporaryDirectory();
        var serverData = folder["server"];
        await using var logger = TestLogging.For(output);
        await using (var server = await LocalServer.StartAsync(serverData, logger))
        {
            using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
            await new Operator.OperatorClient(channel).CreateJobAsync(new CreateJobRequest { Spec = Spec("old") });
        }

        // What the earlier server wrote: {"Version": n, "State": …}, indented, enums as names.
        var job = Path.Combine(serverData, "state", "job", "old.job.state");
        var directory = Path.Combine(serverData, "state", "job-directory", "0.jobs.state");
        ToJson<Federated.Server.Jobs.JobState>(job);
        ToJson<Federated.Server.Jobs.JobDirectoryState>(directory);

        await using (var server = await LocalServer.StartAsync(serverData, logger))
        {
            using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
            var operatorClient = new Operator.OperatorClient(channel);
            Assert.Equal(["old"], (await operatorClient.ListJobsAsync(new ListJobsRequest())).Jobs.Select(j => j.JobId));
            var status = await operatorClient.GetJobAsync(new GetJobRequest { JobId = "old" });
            Assert.Equal((JobState.Running, 3u), (status.State, (uint)status.Spec.Rounds));
            Assert.True(File.Exists(Path.ChangeExtension(job, ".json")), "read, not yet written back");

            await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = Spec("new") }); // the job directory's next write
            Assert.True(File.Exists(directory));
            Assert.False(File.Exists(Path.ChangeExtension(directory, ".json")));
            Assert.Equal(["old", "new"], StateFiles.Read<Federated.Server.Jobs.JobDirectoryState>(directory).State.Jobs);
            Assert.Equal(["new", "old"], (await operatorClient.ListJobsAsync(new ListJobsRequest())).Jobs.Select(j => j.JobId).Order(StringComparer.Ordinal));
        }
    }

    private static void ToJson<T>(string path)
    {
        var (version, state) = StateFiles.Read<T>(path);
        var json = JsonSerializer.Serialize(new { Version = version, State = state }, new JsonSerializerOptions { WriteIndented = true, Converters = { new JsonStringEnumConverter() } });
        File.WriteAllText(Path.ChangeExtension(path, ".json"), json);
        File.Delete(path);
    }

    private static JobSpec Spec(string jobId)
    {
        var spec = new JobSpec { JobId = jobId, BaseModel = "builtin:tiny", Rounds = 3, LocalSteps = 1, Scheduler = new SchedulerSpec { Policy = "fedasync" } };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        return spec;
    }
}
