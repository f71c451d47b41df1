using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Core.Adapters;
using Federated.Protos.V1;
using Federated.Server.Clients;
using Federated.Server.Coordination;
using Federated.Server.Storage;
using Federated.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;

namespace Federated.Server.Tests.Scheduling;

/// <summary>
/// A running job's scheduler holds a keep-alive reminder, so its deadlines are acted on after its activation is gone
/// (as after its silo died) with no client calling; the reminder goes when the job ends. Orleans' reminders and grain
/// timers read the fixture's fake clock too, so moving it past a reminder's tick fires it. A job owed an evaluation
/// holds one too, so a lost evaluation request is made again.
/// </summary>
public class KeepAliveTests(FakeClockServerFixture fixture) : IClassFixture<FakeClockServerFixture>
{
    private static readonly TimeSpan KeepAlivePeriod = TimeSpan.FromSeconds(60); // Server:KeepAliveSeconds' default

    [Fact]
    public async Task A_scheduler_whose_activation_is_gone_still_expires_a_task_at_its_deadline()
    {
        await CreateJob("asleep", timeoutSeconds: 30);
        var sleepy = await fixture.Coordinator.EnrolAndPoll("sleepy", 5);
        Assert.Equal(PollTaskReply.OutcomeOneofCase.Task, sleepy.OutcomeCase);
        Assert.NotNull(await KeepAliveRow("asleep"));

        // The activation goes with its timers, as on a dead silo; nothing calls the scheduler after this.
        await fixture.Grains.GetGrain<ISchedulerGrain>("asleep").Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await Until(async () => await SchedulerActivations("asleep") == 0, "the scheduler's activation to go");

        fixture.Clock.Advance(KeepAlivePeriod + TimeSpan.FromSeconds(1)); // past the task's deadline and the reminder's tick
        var index = fixture.Server.App.Services.GetRequiredService<ClientIndex>();
        await Until(() => Task.FromResult(index.TryGet("sleepy", out var client) && client.TasksExpired == 1), "the sleepy client's task to expire");
        Assert.Equal(1, await SchedulerActivations("asleep"));
        await fixture.Grains.GetGrain<IJobGrain>("asleep").Stop(); // a poll takes a task from any running job
    }

    [Fact]
    public async Task A_scheduler_activated_again_tells_the_client_index_again_who_holds_its_tasks()
    {
        await CreateJob("retold", timeoutSeconds: 600);
        Assert.Equal(PollTaskReply.OutcomeOneofCase.Task, (await fixture.Coordinator.EnrolAndPoll("holder", 5)).OutcomeCase);
        var index = fixture.Server.App.Services.GetRequiredService<ClientIndex>();
        Assert.NotNull(index.JobStateOf("retold", "holder"));

        // What the scheduler told the index is lost, as when its silo died before the news reached the others...
        index.ReplaceJob("retold", []);
        await fixture.Grains.GetGrain<ISchedulerGrain>("retold").Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await Until(async () => await SchedulerActivations("retold") == 0, "the scheduler's activation to go");
        Assert.Null(index.JobStateOf("retold", "holder"));

        // ...and its next activation says it again, with no client calling.
        await fixture.Grains.GetGrain<ISchedulerGrain>("retold").Tick();
        await Until(() => Task.FromResult(index.JobStateOf("retold", "holder") is not null), "the index to learn again that the client holds a task");
        await fixture.Grains.GetGrain<IJobGrain>("retold").Stop(); // a poll takes a task from any running job
    }

    [Fact]
    public async Task The_keep_alive_reminder_is_removed_when_the_job_completes()
    {
        await CreateJob("finishing", timeoutSeconds: 600);
        var task = (await fixture.Coordinator.EnrolAndPoll("finisher", 5)).Task;
        Assert.NotNull(await KeepAliveRow("finishing"));

        var update = AdapterSerializer.ToBytes(Updates.For(task));
        await Updates.Upload(fixture.Coordinator, Updates.Header(task, "finisher", update.Length), update);
        Assert.Equal(JobState.Completed, (await fixture.Operator.GetJobAsync(new GetJobRequest { JobId = "finishing" })).State);
        Assert.Null(await KeepAliveRow("finishing"));
    }

    [Fact]
    public async Task The_keep_alive_reminder_of_a_stopped_job_is_removed_at_its_next_tick()
    {
        await CreateJob("stopping", timeoutSeconds: 600);
        var poll = await fixture.Coordinator.EnrolAndPoll("stopped-client", 5);
        Assert.Equal("stopping", poll.Task?.JobId);
        Assert.NotNull(await KeepAliveRow("stopping"));

        await fixture.Grains.GetGrain<IJobGrain>("stopping").Stop();
        fixture.Clock.Advance(KeepAlivePeriod + TimeSpan.FromSeconds(1));
        await Until(async () => await KeepAliveRow("stopping") is null, "the stopped job's reminder to go");
    }

    [Fact]
    public async Task A_committed_round_whose_evaluation_was_never_asked_for_is_evaluated_at_the_jobs_next_tick()
    {
        await CreateJob("unevaluated", timeoutSeconds: 600, evaluationDataset: "builtin:synthetic?split=test&count=4&seed=1");
        var task = (await fixture.Coordinator.EnrolAndPoll("evaluated-client", 5)).Task;
        Assert.Equal("unevaluated", task.JobId);

        // What a scheduler whose silo died between the round's commit and the evaluator's call leaves: the round, no request.
        var (sha256, size) = await fixture.Server.App.Services.GetRequiredService<AdapterStore>().WriteAsync(stream => AdapterSerializer.WriteAsync(stream, Updates.For(task)));
        var job = fixture.Grains.GetGrain<IJobGrain>("unevaluated");
        var now = fixture.Clock.GetUtcNow();
        await job.CommitRound(new RoundRecord { Round = 1, UpdateSha256 = sha256, UpdateBytes = size, StackedRank = 2, Participants = [], StartedAt = now, CompletedAt = now });

        fixture.Clock.Advance(KeepAlivePeriod + TimeSpan.FromSeconds(1));
        await Until(async () => (await job.GetSnapshot()) is { IsSettled: true } settled && settled.History[0].Evaluation is not null, "round 1's evaluation");
        Assert.Null((await job.GetSnapshot()).EvaluationError);
    }

    private Task<ReminderEntry?> KeepAliveRow(string jobId)
        => fixture.Server.App.Services.GetRequiredService<IReminderTable>()
            .ReadRow(fixture.Grains.GetGrain<ISchedulerGrain>(jobId).GetGrainId(), KeepAliveReminder.Name)!;

    private Task<int> SchedulerActivations(string jobId)
        => fixture.Grains.GetGrain<IManagementGrain>(0).GetGrainActivationCount((GrainReference)fixture.Grains.GetGrain<ISchedulerGrain>(jobId));

    /// <summary>Returns once <paramref name="done"/> holds (looked at again on every client change and every 50 ms of real time); fails after 20 s.</summary>
    private async Task Until(Func<Task<bool>> done, string what)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var index = fixture.Server.App.Services.GetRequiredService<ClientIndex>();
        try
        {
            await index.UntilAsync(done, TimeSpan.FromMilliseconds(50), limit.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"waited 20 s for {what}");
        }
    }

    private async Task CreateJob(string jobId, int timeoutSeconds, string evaluationDataset = "")
    {
        var spec = new JobSpec { JobId = jobId, BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1, ClientsPerRound = 1, LocalSteps = 1, TaskTimeoutSeconds = timeoutSeconds, EvaluationDataset = evaluationDataset, Scheduler = new SchedulerSpec { Policy = "synchronous" } };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        await fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
    }
}
