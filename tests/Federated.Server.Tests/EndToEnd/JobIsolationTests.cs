using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Federated.Server.Tests.EndToEnd;

/// <summary>One job's damaged scheduler state fails that job, named, and every other job goes on.</summary>
public class JobIsolationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_job_whose_scheduler_state_cannot_be_restored_fails_with_the_reason_and_the_others_go_on()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var serverData = folder["server"];

        await using (var server = await LocalServer.StartAsync(serverData, logger))
        {
            using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
            var operatorClient = new Operator.OperatorClient(channel);
            await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = Spec("broken") });
            var coordinator = TestClients.Coordinator(channel);
            Assert.Equal("broken", (await coordinator.EnrolAndTakeTask("first")).JobId); // its scheduler state is saved
            await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = Spec("healthy") });
        }

        // Damage the first job's saved policy state (the file still parses; its policy state does not).
        var file = Path.Combine(serverData, "state", "scheduler", "broken.scheduler.state");
        StateFiles.Edit<Federated.Server.Scheduling.SchedulerState>(file, scheduler => scheduler.PolicyState = "{\"policy\":\"fedasync\",\"Clients\":");

        await using (var server = await LocalServer.StartAsync(serverData, logger))
        {
            using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
            var operatorClient = new Operator.OperatorClient(channel);
            var coordinator = TestClients.Coordinator(channel);
            var task = await coordinator.EnrolAndTakeTask("second", waitSeconds: 0);
            Assert.Equal("healthy", task.JobId);

            var broken = await operatorClient.GetJobAsync(new GetJobRequest { JobId = "broken" });
            Assert.Equal(JobState.Failed, broken.State);
            Assert.Contains("job 'broken': the saved scheduler state is not valid", broken.Error);
            Assert.Equal(JobState.Running, (await operatorClient.GetJobAsync(new GetJobRequest { JobId = "healthy" })).State);
        }
    }

    private static JobSpec Spec(string jobId)
    {
        var spec = new JobSpec { JobId = jobId, BaseModel = "builtin:tiny", Rounds = 2, LocalSteps = 1, Scheduler = new SchedulerSpec { Policy = "fedasync" } };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        return spec;
    }
}
