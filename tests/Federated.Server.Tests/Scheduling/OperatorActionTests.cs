using Federated.Contracts.Clients;
using Federated.Contracts.Jobs;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Federated.Server.Tests.Scheduling;

/// <summary>What the dashboard's operator actions do to scheduling: paused jobs and clients get no tasks.</summary>
public class OperatorActionTests(ServerFixture fixture) : SharedServerTests(fixture)
{
    private IGrainFactory Grains => Fixture.Server.App.Services.GetRequiredService<IGrainFactory>();

    [Fact]
    public async Task A_paused_job_hands_out_no_task_until_resumed_and_a_stopped_one_none_again()
    {
        await CreateJob("pausable");
        var job = Grains.GetGrain<IJobGrain>("pausable");
        await job.Pause();

        var whilePaused = await Fixture.Coordinator.EnrolAndPoll("worker", 1);
        Assert.Equal(PollTaskReply.OutcomeOneofCase.NoTask, whilePaused.OutcomeCase);
        var again = await Assert.ThrowsAsync<Contracts.Errors.FederatedException>(() => job.Pause());
        Assert.Contains("only a running job can be paused", again.Message);

        await job.Resume();
        var resumed = await Fixture.Coordinator.EnrolAndPoll("worker", 5);
        Assert.Equal("pausable", resumed.Task.JobId);

        var stopped = await job.Stop();
        Assert.Equal(JobStatusKind.Stopped, stopped.Status);
        Assert.True(stopped.IsSettled);
        Assert.Equal(["paused by an operator", "resumed by an operator", "stopped by an operator"], stopped.Events.Select(e => e.Message));
        var status = await Fixture.Operator.GetJobAsync(new GetJobRequest { JobId = "pausable" });
        Assert.Equal(JobState.Failed, status.State);
        Assert.Equal("stopped by an operator", status.Error);
        await Assert.ThrowsAsync<Contracts.Errors.FederatedException>(() => job.Resume());
    }

    [Fact]
    public async Task A_paused_client_gets_no_task_a_drained_one_is_removed_and_may_not_enrol_again()
    {
        // No job is needed: a paused client is refused before any job is asked (and another test's job must stay untouched).
        await Fixture.Coordinator.EnrolAsync(new EnrolRequest { ClientId = "resting" });
        var client = Grains.GetGrain<IClientGrain>("resting");
        await client.SetAdmission(ClientAdmission.Paused);

        var paused = await Fixture.Coordinator.PollTaskAsync(new PollTaskRequest { ClientId = "resting", WaitSeconds = 1 });
        Assert.Equal(PollTaskReply.OutcomeOneofCase.NoTask, paused.OutcomeCase);
        Assert.Contains("paused by an operator", paused.NoTask.Reason);

        await client.SetAdmission(ClientAdmission.Draining);
        var drained = await Fixture.Coordinator.PollTaskAsync(new PollTaskRequest { ClientId = "resting", WaitSeconds = 1 });
        Assert.Contains("removed by an operator", drained.NoTask.Reason);
        Assert.Equal(ClientAdmission.Removed, (await client.GetSnapshot()).Admission);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await Fixture.Coordinator.EnrolAsync(new EnrolRequest { ClientId = "resting" }));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("removed by an operator", refused.Status.Detail);
    }

    private async Task CreateJob(string jobId)
    {
        var spec = new JobSpec { JobId = jobId, BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1, ClientsPerRound = 2, LocalSteps = 1 };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        await Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
    }
}
