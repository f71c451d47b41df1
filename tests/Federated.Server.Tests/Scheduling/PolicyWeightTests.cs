using Federated.Contracts.Clients;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Federated.Server.Tests.Scheduling;

/// <summary>
/// The weights an asynchronous policy orders, as the job's history records them. Federation weighting (the default):
/// α·S(τ)·n_k/N, N over every client that asked the job and was not removed; every upload here declares 100 samples.
/// </summary>
public class PolicyWeightTests(ServerFixture fixture) : SharedServerTests(fixture)
{
    private IGrainFactory Grains => Fixture.Server.App.Services.GetRequiredService<IGrainFactory>();

    [Fact]
    public async Task Fedbuff_weights_use_the_jobs_client_weights_in_place_of_sample_counts_over_the_federation_and_discount_staleness()
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
        // heavy weighs 3, light its 100 samples; late has not asked yet: N = 103, α = 0.9.
        Assert.Equal(0.9 * 3 / 103, first["heavy"].Weight, 9);
        Assert.Equal(0.9 * 100 / 103, first["light"].Weight, 9);
        var second = job.Rounds[1].Participants.ToDictionary(p => p.ClientId);
        Assert.Equal((1L, 0L), (second["heavy"].Staleness, second["late"].Staleness));
        // late has joined: N = 3 + 100 + 100 = 203; heavy's share × (1 + 1)^(−0.5).
        Assert.Equal(0.9 * 3 / 203 / Math.Sqrt(2), second["heavy"].Weight, 9);
        Assert.Equal(0.9 * 100 / 203, second["late"].Weight, 9);
    }

    private async Task<JobState> RunFedAsync(string jobId, string weighting, Func<TrainingTask, TrainingTask, Task> between)
    {
        var spec = new JobSpec { JobId = jobId, BaseModel = "builtin:tiny", Rounds = 1, LocalSteps = 1, Scheduler = new SchedulerSpec { Policy = "fedasync" } };
        if (weighting.Length > 0)
            spec.Scheduler.Weighting = weighting;
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        await Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
        var a = await Fixture.Coordinator.EnrolAndTakeTask($"{jobId}-a");
        var b = await Fixture.Coordinator.EnrolAndTakeTask($"{jobId}-b");
        await between(a, b);
        await Fixture.Coordinator.UploadRandomUpdate(a, $"{jobId}-a");
        return (await Fixture.Operator.GetJobAsync(new GetJobRequest { JobId = jobId })).State;
    }

    private async Task<double> OnlyWeight(string jobId)
        => Assert.Single(Assert.Single((await Fixture.Operator.GetJobAsync(new GetJobRequest { JobId = jobId })).Rounds).Participants).Weight;

    [Fact]
    public async Task A_lone_fedasync_update_gets_its_federation_share_by_default_and_the_whole_alpha_with_batch_weighting()
    {
        // Two clients of 100 samples, a fresh update: federation 0.9·100/200 = 0.45; batch (the earlier rule) 0.9.
        Assert.Equal(JobState.Completed, await RunFedAsync("federation-share", "", (_, _) => Task.CompletedTask));
        Assert.Equal(0.45, await OnlyWeight("federation-share"), 9);
        Assert.Equal(JobState.Completed, await RunFedAsync("batch-share", "batch", (_, _) => Task.CompletedTask));
        Assert.Equal(0.9, await OnlyWeight("batch-share"), 9);
    }

    [Fact]
    public async Task A_client_removed_by_an_operator_leaves_the_federation_and_its_task_is_withdrawn()
    {
        var scheduler = Grains.GetGrain<Contracts.Scheduling.ISchedulerGrain>("removal-share");
        Assert.Equal(JobState.Completed, await RunFedAsync("removal-share", "", async (_, b) =>
        {
            var known = (await scheduler.RequestTask("removal-share-a")).ChangeCount;
            await Grains.GetGrain<IClientGrain>("removal-share-b").SetAdmission(ClientAdmission.Removed);
            await scheduler.WaitForChange(known, TimeSpan.FromSeconds(30)); // the scheduler hears of it one-way: its task is withdrawn
            var withdrawn = await Assert.ThrowsAsync<Contracts.Errors.FederatedException>(() => scheduler.GetTask("removal-share-b", b.TaskId, b.Round));
            Assert.Contains("removed by an operator", withdrawn.Message);
        }));
        // a alone is the federation: 0.9·100/100 (0.45 had b stayed).
        Assert.Equal(0.9, await OnlyWeight("removal-share"), 9);
    }

    [Theory]
    [InlineData("fedasync", "share", "scheduler.weighting: 'share' is not known; choose federation or batch")]
    [InlineData("synchronous", "federation", "scheduler.weighting: must be batch")]
    public async Task Bad_weighting_is_refused_naming_it(string policy, string weighting, string message)
    {
        var spec = new JobSpec { JobId = $"bad-weighting-{policy}", BaseModel = "builtin:tiny", Rounds = 1, Scheduler = new SchedulerSpec { Policy = policy, Weighting = weighting } };
        var status = await Updates.Refused(() => Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec }).ResponseAsync);
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains(message, status.Detail);
    }
}
