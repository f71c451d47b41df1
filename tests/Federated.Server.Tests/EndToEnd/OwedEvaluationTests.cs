using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Federated.Server.Tests.EndToEnd;

/// <summary>A round committed before a crash, whose evaluation was not yet recorded, is evaluated after the restart.</summary>
public class OwedEvaluationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_committed_round_whose_evaluation_was_lost_in_a_crash_is_evaluated_after_the_restart()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var serverData = folder["server"];
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        JobStatus first;
        await using (var server = await LocalServer.StartAsync(serverData, logger, cancellationToken: timeout.Token))
        {
            using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
            var operatorClient = new Operator.OperatorClient(channel);
            await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = Spec() }, cancellationToken: timeout.Token);
            var coordinator = TestClients.Coordinator(channel);
            var task = await coordinator.EnrolAndTakeTask("only");
            Assert.False((await coordinator.UploadRandomUpdate(task, "only")).Duplicate);
            // Completed, its one round and the base evaluated: the watch ends once nothing more will change.
            first = await LocalFederation.WatchAsync(operatorClient, "owed", null, timeout.Token);
            Assert.Equal(JobState.Completed, first.State);
            Assert.NotNull(first.Rounds[0].Evaluation);
            Assert.NotNull(first.Baseline);
        }

        // What a crash after the round's commit and before its evaluation leaves on disk: the round, no metrics.
        var file = Path.Combine(serverData, "state", "job", "owed.job.state");
        StateFiles.Edit<Federated.Server.Jobs.JobState>(file, job =>
        {
            job.History[0] = job.History[0] with { Evaluation = null };
            job.Baseline = null;
        });

        await using (var server = await LocalServer.StartAsync(serverData, logger, cancellationToken: timeout.Token))
        {
            using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
            var operatorClient = new Operator.OperatorClient(channel);
            // The watch sees the round without metrics first (the job is not settled while one is owed), then with them.
            var again = await LocalFederation.WatchAsync(operatorClient, "owed", null, timeout.Token);
            Assert.Equal(JobState.Completed, again.State);
            Assert.Equal(first.Rounds[0].Evaluation, again.Rounds[0].Evaluation); // the same model on the same data
            Assert.Equal(first.Baseline, again.Baseline);
            Assert.Equal("", again.EvaluationError);
        }
    }

    private static JobSpec Spec()
    {
        var spec = new JobSpec
        {
            JobId = "owed",
            BaseModel = "builtin:tiny",
            Rounds = 1,
            LocalSteps = 1,
            EvaluationDataset = "builtin:synthetic?split=test&count=4&seed=1",
            Scheduler = new SchedulerSpec { Policy = "fedasync" },
        };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        return spec;
    }
}
