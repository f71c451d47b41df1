using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Grpc.Core;

namespace Federated.Server.Tests.Scheduling;

/// <summary>Ranks sized from each client's device through the job's rank tiers.</summary>
public class RankTierTests(ServerFixture fixture) : SharedServerTests(fixture)
{
    private const long GiB = 1L << 30;

    [Fact]
    public async Task Each_client_gets_the_rank_of_the_first_tier_its_device_meets()
    {
        var spec = new JobSpec { JobId = "tiered", BaseModel = "builtin:tiny", Rounds = 5, LocalSteps = 1, Scheduler = new SchedulerSpec { Policy = "fedasync" } };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        spec.ClientRanks.Add("named", 4);
        spec.Scheduler.RankTiers.Add(new RankTier { Rank = 16, MinMemoryGib = 16 });
        spec.Scheduler.RankTiers.Add(new RankTier { Rank = 8, MinMemoryGib = 4 });
        var created = await Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
        Assert.Equal(2, created.Spec.Scheduler.RankTiers.Count);

        Assert.Equal(16, await RankOf("workstation", new DeviceProfile { MemoryBytes = 32 * GiB }));
        Assert.Equal(8, await RankOf("laptop", new DeviceProfile { MemoryBytes = 8 * GiB }));
        Assert.Equal(16, await RankOf("gpu-box", new DeviceProfile { Kind = DeviceKind.Cuda, MemoryBytes = 2 * GiB, AcceleratorMemoryBytes = 24 * GiB }));
        Assert.Equal(2, await RankOf("phone", new DeviceProfile { MemoryBytes = 1 * GiB })); // no tier: the job's first rank
        Assert.Equal(4, await RankOf("named", new DeviceProfile { MemoryBytes = 64 * GiB })); // client_ranks win
    }

    [Fact]
    public async Task Bad_tiers_are_refused_naming_the_tier_and_field()
    {
        var spec = new JobSpec { JobId = "bad-tiers", BaseModel = "builtin:tiny", Rounds = 1, Scheduler = new SchedulerSpec { Policy = "fedcompass" } };
        spec.Scheduler.RankTiers.Add(new RankTier { Rank = 8, MinMemoryGib = 4 });
        spec.Scheduler.RankTiers.Add(new RankTier { Rank = 8, MinMemoryGib = -1 });
        var status = await Updates.Refused(() => Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains("scheduler.rank_tiers[1].min_memory_gib", status.Detail);

        spec.JobId = "too-wide";
        spec.Scheduler.RankTiers.Clear();
        spec.Scheduler.RankTiers.Add(new RankTier { Rank = 999 });
        status = await Updates.Refused(() => Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec }).ResponseAsync);
        Assert.Contains("scheduler.rank_tiers[0].rank: rank 999 is outside", status.Detail);
    }

    private async Task<int> RankOf(string clientId, DeviceProfile device)
        => (await Fixture.Coordinator.EnrolAndTakeTask(clientId, device: device)).Lora.Rank;
}
