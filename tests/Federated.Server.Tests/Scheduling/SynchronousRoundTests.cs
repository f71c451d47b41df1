using Federated.Contracts.Clients;
using Federated.Core.Adapters;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Grpc.Core;

namespace Federated.Server.Tests.Scheduling;

/// <summary>How synchronous rounds hand out tasks: resumption, deadlines, tasks given back (on a fake clock).</summary>
public class SynchronousRoundTests(FakeClockServerFixture fixture) : IClassFixture<FakeClockServerFixture>
{
    [Fact]
    public async Task A_task_past_its_deadline_goes_to_another_client_and_the_late_update_is_refused()
    {
        await CreateJob("deadline", timeoutSeconds: 2);
        var sleepy = await fixture.Coordinator.EnrolAndPoll("sleepy", 5);
        Assert.Equal(PollTaskReply.OutcomeOneofCase.Task, sleepy.OutcomeCase);
        var full = await fixture.Coordinator.EnrolAndPoll("eager", 0);
        Assert.Equal(PollTaskReply.OutcomeOneofCase.NoTask, full.OutcomeCase);
        Assert.Contains("has its 1 clients", full.NoTask.Reason);

        await fixture.AdvanceAsync(TimeSpan.FromSeconds(1.9), "deadline");
        Assert.Equal(PollTaskReply.OutcomeOneofCase.NoTask, (await fixture.Coordinator.EnrolAndPoll("eager", 0)).OutcomeCase);
        await fixture.AdvanceAsync(TimeSpan.FromSeconds(0.1), "deadline"); // the round's deadline: the sleepy client's task expires
        var eager = await fixture.Coordinator.EnrolAndPoll("eager", 0);
        Assert.Equal(PollTaskReply.OutcomeOneofCase.Task, eager.OutcomeCase);
        Assert.NotEqual(sleepy.Task.TaskId, eager.Task.TaskId);

        var late = AdapterSerializer.ToBytes(Updates.For(sleepy.Task));
        var status = await Updates.Refused(() => Updates.Upload(fixture.Coordinator, Updates.Header(sleepy.Task, "sleepy", late.Length), late));
        Assert.Equal(StatusCode.FailedPrecondition, status.StatusCode);
        Assert.Contains("expired", status.Detail);

        var onTime = AdapterSerializer.ToBytes(Updates.For(eager.Task));
        await Updates.Upload(fixture.Coordinator, Updates.Header(eager.Task, "eager", onTime.Length), onTime);
        var job = await fixture.Operator.GetJobAsync(new GetJobRequest { JobId = "deadline" });
        Assert.Equal(JobState.Completed, job.State);
        Assert.Equal(["eager"], job.Rounds[0].Participants.Select(p => p.ClientId));

        var grains = fixture.Grains;
        Assert.Equal(1, (await grains.GetGrain<IClientGrain>("sleepy").GetSnapshot()).TasksExpired);
        Assert.Equal(1, (await grains.GetGrain<IClientGrain>("eager").GetSnapshot()).TasksCompleted);
    }

    [Fact]
    public async Task A_task_given_back_frees_its_place_at_once()
    {
        await CreateJob("abandon", timeoutSeconds: 600);
        var quitter = await fixture.Coordinator.EnrolAndPoll("quitter", 5);
        await fixture.Coordinator.AbandonTaskAsync(new AbandonTaskRequest
        {
            ClientId = "quitter",
            JobId = "abandon",
            Round = 1,
            TaskId = quitter.Task.TaskId,
            Reason = "base model differs",
        });
        var replacement = await fixture.Coordinator.EnrolAndPoll("replacement", 5);
        Assert.Equal("abandon", replacement.Task.JobId);
    }

    [Fact]
    public async Task A_client_asking_again_gets_its_open_task_back()
    {
        await CreateJob("resume", timeoutSeconds: 600);
        var first = await fixture.Coordinator.EnrolAndPoll("forgetful", 5);
        var again = await fixture.Coordinator.EnrolAndPoll("forgetful", 5);
        Assert.Equal(first.Task.TaskId, again.Task.TaskId);
        Assert.Equal(first.Task.Lora.Rank, again.Task.Lora.Rank);
    }

    private async Task CreateJob(string jobId, int timeoutSeconds)
    {
        var spec = new JobSpec { JobId = jobId, BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1, ClientsPerRound = 1, LocalSteps = 1, TaskTimeoutSeconds = timeoutSeconds, Scheduler = new SchedulerSpec { Policy = "synchronous" } };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        await fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
    }
}
