using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;

namespace Federated.Server.Tests.Scheduling;

/// <summary>The weights an asynchronous policy orders, as the job's history records them.</summary>
public class PolicyWeightTests(ServerFixture fixture) : SharedServerTests(fixture)
{
    [Fact]
    public async Task Fedbuff_weights_use_the_jobs_client_weights_in_place_of_sample_counts_and_discount_staleness()
    {
        var spec = new JobSpec { JobId = "buffered", BaseModel = "builtin:tiny", Rounds = 2, LocalSteps = 1, Scheduler = new SchedulerSpec { Policy = "fedbuff", BufferSize = 2 } };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        spec.ClientWeights.Add("heavy", 3);
        await Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });

        var coordinator = Fixture.Coordinator;
        // heavy's next task is handed out as its update arrives, before the buffer is full: from version 0.
        await coordinator.UploadRandomUpdate(await coordinator.EnrolAndTakeTask("heavy"), "heavy");
        await coordinator.UploadRandomUpdate(await coordinator.EnrolAndTakeTask("light"), "light"); // version 1: heavy and light, both fresh
        await coordinator.UploadRandomUpdate(await coordinator.EnrolAndTakeTask("heavy"), "heavy"); // from version 0: stale by 1 at version 2
        await coordinator.UploadRandomUpdate(await coordinator.EnrolAndTakeTask("late"), "late"); // from version 1: fresh

        var job = await Fixture.Operator.GetJobAsync(new GetJobRequest { JobId = "buffered" });
        Assert.Equal(JobState.Completed, job.State);
        var first = job.Rounds[0].Participants.ToDictionary(p => p.ClientId);
        Assert.Equal(3.0 / 103, first["heavy"].Weight, 9); // heavy weighs 3, light its 100 samples
        Assert.Equal(100.0 / 103, first["light"].Weight, 9);
        var second = job.Rounds[1].Participants.ToDictionary(p => p.ClientId);
        Assert.Equal((1L, 0L), (second["heavy"].Staleness, second["late"].Staleness));
        Assert.Equal(3.0 / 103 / Math.Sqrt(2), second["heavy"].Weight, 9); // share × (1 + 1)^(−0.5)
        Assert.Equal(100.0 / 103, second["late"].Weight, 9);
    }
}
