using Federated.Contracts.Clients;
using Federated.Core.Adapters;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Grpc.Core;

namespace Federated.Server.Tests.Scheduling;

/// <summary>Clients that never return, under the asynchronous policies: the job goes on without them (on a fake clock).</summary>
public class PolicyDeadlineTests(FakeClockServerFixture fixture) : IClassFixture<FakeClockServerFixture>
{
    [Fact]
    public async Task A_fedcompass_group_member_that_never_returns_misses_the_groups_latest_time_and_is_marked_unavailable()
    {
        // Both clients report 1 s per step. sleepy's first update (4 steps) is applied alone and it opens a
        // group expected in 4 s, latest in 6 s; eager's first update is applied alone and it joins that group
        // with 3 steps. eager returns at once; sleepy never does, so the group is aggregated at its latest time
        // with eager alone and sleepy (allowed one miss) is marked unavailable.
        var spec = Spec("compass-deadline", "fedcompass", rounds: 3);
        spec.Scheduler.MinSteps = 1;
        spec.Scheduler.MaxSteps = 4;
        spec.Scheduler.LatestFactor = 1.5;
        spec.Scheduler.MaxMissedDeadlines = 1;
        await fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });

        var sleepyFirst = await fixture.Coordinator.EnrolAndTakeTask("c-sleepy", 10);
        var eagerFirst = await fixture.Coordinator.EnrolAndTakeTask("c-eager", 10);
        Assert.Equal(4, sleepyFirst.LocalSteps);
        await fixture.Coordinator.UploadRandomUpdate(sleepyFirst, "c-sleepy", secondsPerStep: 1.0);
        fixture.Clock.Advance(TimeSpan.FromSeconds(0.5)); // eager's first update comes half a second after sleepy's
        await fixture.Coordinator.UploadRandomUpdate(eagerFirst, "c-eager", secondsPerStep: 1.0);

        var sleepyGroup = await fixture.Coordinator.EnrolAndTakeTask("c-sleepy", 10);
        var eagerGroup = await fixture.Coordinator.EnrolAndTakeTask("c-eager", 10);
        Assert.Equal(4, sleepyGroup.LocalSteps);
        Assert.Equal(3, eagerGroup.LocalSteps);
        Assert.Equal(3, eagerGroup.Round); // starts from version 2
        await fixture.Coordinator.UploadRandomUpdate(eagerGroup, "c-eager", secondsPerStep: 1.0);
        var waiting = await fixture.Coordinator.Poll("c-eager", 0);
        Assert.Equal(PollTaskReply.OutcomeOneofCase.NoTask, waiting.OutcomeCase);
        Assert.Contains("is in", waiting.NoTask.Reason);

        await fixture.AdvanceAsync(TimeSpan.FromSeconds(6.5), "compass-deadline"); // past the group's latest time
        var job = await Job("compass-deadline");
        Assert.Equal(JobState.Completed, job.State);
        Assert.Equal(["c-sleepy", "c-eager", "c-eager"], job.Rounds.Select(r => r.Participants.Single().ClientId));
        // α · S(τ) · 100/200: both clients asked before the first update and each upload declares 100 samples; sleepy,
        // marked unavailable but not removed, stays in N.
        Assert.Equal(0.45, job.Rounds[0].Participants[0].Weight, 9); // α · S(0) · 1/2
        Assert.Equal(0.45 / Math.Sqrt(2), job.Rounds[1].Participants[0].Weight, 9); // started at version 0, applied after version 1
        Assert.Equal(0.45, job.Rounds[2].Participants[0].Weight, 9);
        Assert.Equal([0L, 1L, 0L], job.Rounds.Select(r => r.Participants[0].Staleness));
        Assert.Equal([4, 4, 3], job.Rounds.Select(r => r.Participants[0].Steps));

        var late = AdapterSerializer.ToBytes(Updates.For(sleepyGroup));
        var status = await Updates.Refused(() => Updates.Upload(fixture.Coordinator, Updates.Header(sleepyGroup, "c-sleepy", late.Length), late));
        Assert.Equal(StatusCode.FailedPrecondition, status.StatusCode);
        Assert.Contains("expired", status.Detail);
        Assert.Equal(1, (await Grains.GetGrain<IClientGrain>("c-sleepy").GetSnapshot()).TasksExpired);
    }

    [Fact]
    public async Task A_fedasync_task_past_its_timeout_is_withdrawn_and_the_job_completes_with_the_others()
    {
        await fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = Spec("async-deadline", "fedasync", rounds: 2, timeoutSeconds: 1) });
        var sleepy = await fixture.Coordinator.EnrolAndTakeTask("a-sleepy", 10);
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(0.999), "async-deadline");
        Assert.Equal(0, (await Grains.GetGrain<IClientGrain>("a-sleepy").GetSnapshot()).TasksExpired);
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(0.001), "async-deadline"); // its timeout, to the tick
        Assert.Equal(1, (await Grains.GetGrain<IClientGrain>("a-sleepy").GetSnapshot()).TasksExpired);

        var late = AdapterSerializer.ToBytes(Updates.For(sleepy));
        var status = await Updates.Refused(() => Updates.Upload(fixture.Coordinator, Updates.Header(sleepy, "a-sleepy", late.Length), late));
        Assert.Contains("expired", status.Detail);

        await fixture.Coordinator.UploadRandomUpdate(await fixture.Coordinator.EnrolAndTakeTask("a-eager", 10), "a-eager", secondsPerStep: 1.0);
        await fixture.Coordinator.UploadRandomUpdate(await fixture.Coordinator.EnrolAndTakeTask("a-eager", 10), "a-eager", secondsPerStep: 1.0);
        var job = await Job("async-deadline"); // the last upload commits the last round before it is answered
        Assert.Equal(JobState.Completed, job.State);
        Assert.All(job.Rounds, r => Assert.Equal("a-eager", r.Participants.Single().ClientId));
    }

    private IGrainFactory Grains => fixture.Grains;

    private static JobSpec Spec(string jobId, string policy, int rounds, int timeoutSeconds = 600)
    {
        var spec = new JobSpec
        {
            JobId = jobId,
            BaseModel = "builtin:tiny",
            Rounds = rounds,
            LocalSteps = 1,
            TaskTimeoutSeconds = timeoutSeconds,
            Scheduler = new SchedulerSpec { Policy = policy },
        };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        return spec;
    }

    private async Task<JobStatus> Job(string jobId) => await fixture.Operator.GetJobAsync(new GetJobRequest { JobId = jobId });
}
