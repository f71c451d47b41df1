using System.Diagnostics;
using System.Globalization;
using Federated.Contracts.Clients;
using Federated.Contracts.Scheduling;
using Federated.Protos.V1;
using Federated.Server.Tests.Cluster.Processes;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Cluster;

/// <summary>
/// Three silos on one PostgreSQL database (one in this process, two as their own processes): the one holding a
/// job's scheduler is SIGKILLed, and the test measures how long the survivor's membership takes to show it dead
/// (ClusterHosting.ConfigureMembership: within 15 s) and the scheduler to be active on a survivor again with no
/// client calling (its keep-alive reminder, here every 5 s), which then expires the task the dead silo handed out.
/// </summary>
public class SiloDeathTests(ITestOutputHelper output)
{
    private const int KeepAliveSeconds = 5;
    private const int TaskTimeoutSeconds = 20;

    [Fact]
    public async Task A_killed_silo_is_declared_dead_within_15_s_and_its_scheduler_resumes_on_a_survivor_with_no_client_call()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var database = await PostgresServer.CreateDatabaseAsync("silo-death");
        var shared = folder["shared"];
        var settings = new Dictionary<string, string?>
        {
            ["Server:Cluster:Mode"] = "Postgres",
            ["Server:Cluster:ConnectionString"] = database,
            ["Server:Cluster:AdvertisedAddress"] = "127.0.0.1",
            ["Server:SchedulerTickSeconds"] = "1",
            ["Server:KeepAliveSeconds"] = KeepAliveSeconds.ToString(CultureInfo.InvariantCulture),
        };
        await using var survivor = await LocalServer.StartAsync(shared, logger, settings: new Dictionary<string, string?>(settings)
        {
            ["Server:GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
        }, cancellationToken: timeout.Token);
        await using var b = SiloProcess.Start("silo-b", shared, settings);
        await using var c = SiloProcess.Start("silo-c", shared, settings);
        try
        {
            await b.WaitUntilServingAsync(timeout.Token);
            await c.WaitUntilServingAsync(timeout.Token);
            var membership = survivor.App.Services.GetRequiredService<IClusterMembershipService>();
            await UntilMembership(membership, s => s.Members.Values.Count(m => m.Status == SiloStatus.Active) == 3, timeout.Token);

            // Jobs whose first scheduler call comes through a child silo: resource-optimised placement prefers the
            // caller's silo, so their schedulers (and keep-alive reminders) mostly start there.
            var grains = survivor.App.Services.GetRequiredService<IGrainFactory>();
            using var toSurvivor = GrpcChannel.ForAddress(survivor.GrpcAddress);
            var children = new[] { b, c };
            (string JobId, string ClientId, SiloProcess Host)? chosen = null;
            for (int i = 0; i < 6 && chosen is null; i++)
            {
                var jobId = $"failover-{i}";
                await new Operator.OperatorClient(toSurvivor).CreateJobAsync(new CreateJobRequest { Spec = Spec(jobId) }, cancellationToken: timeout.Token);
                var through = children[i % 2];
                using var channel = GrpcChannel.ForAddress(through.GrpcAddress);
                var poll = await TestClients.Coordinator(channel).EnrolAndPoll($"edge-{i}", 5);
                Assert.Equal(PollTaskReply.OutcomeOneofCase.Task, poll.OutcomeCase);
                var host = await HostOf(grains, poll.Task.JobId);
                if (children.FirstOrDefault(child => child.SiloPort == host?.Endpoint.Port) is { } onChild)
                    chosen = (poll.Task.JobId, $"edge-{i}", onChild);
            }
            Assert.True(chosen is not null, "no scheduler was placed on a child silo");
            var (job, client, victim) = chosen.Value;

            var clock = Stopwatch.StartNew();
            victim.Kill();
            await UntilMembership(membership, s => s.Members.Values.Any(m => m.SiloAddress.Endpoint.Port == victim.SiloPort && m.Status == SiloStatus.Dead), timeout.Token);
            var dead = clock.Elapsed;
            output.WriteLine($"{victim.Name} (SIGKILLed, holding job {job}'s scheduler) shown dead on the survivor after {dead.TotalSeconds:F1} s");

            using var recheck = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            while (await HostOf(grains, job) is not { } host || host.Endpoint.Port == victim.SiloPort)
                await recheck.WaitForNextTickAsync(timeout.Token);
            var back = clock.Elapsed;
            output.WriteLine($"job {job}'s scheduler active again on a survivor after {back.TotalSeconds:F1} s (keep-alive reminder every {KeepAliveSeconds} s)");

            while (!await Answers(async () => (await grains.GetGrain<IClientGrain>(client).GetSnapshot()).TasksExpired > 0))
                await recheck.WaitForNextTickAsync(timeout.Token);
            output.WriteLine($"the task it had handed {client} expired after {clock.Elapsed.TotalSeconds:F1} s (its timeout: {TaskTimeoutSeconds} s from issue)");

            Assert.True(dead < TimeSpan.FromSeconds(15), $"{victim.Name} took {dead.TotalSeconds:F1} s to be declared dead");
            Assert.True(back - dead < TimeSpan.FromSeconds(KeepAliveSeconds + 10), $"the scheduler came back {(back - dead).TotalSeconds:F1} s after the death");
        }
        catch (Exception) when (Report(b, c))
        {
            throw;
        }
    }

    /// <summary>Returns once the survivor's view of the membership satisfies <paramref name="done"/> (woken by its updates).</summary>
    private static async Task UntilMembership(IClusterMembershipService membership, Func<ClusterMembershipSnapshot, bool> done, CancellationToken cancellationToken)
    {
        if (done(membership.CurrentSnapshot))
            return;
        await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(cancellationToken))
            if (done(snapshot))
                return;
    }

    /// <summary>The silo holding the scheduler's activation, from the grain directory; null while it has none (no call is made to it).</summary>
    private static async Task<SiloAddress?> HostOf(IGrainFactory grains, string jobId)
    {
        SiloAddress? host = null;
        await Answers(async () => (host = await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grains.GetGrain<ISchedulerGrain>(jobId))) is not null);
        return host;
    }

    /// <summary>
    /// <paramref name="ask"/>'s answer; false when it is refused or takes over 2 s, as calls do until the dead silo is
    /// declared dead (the grain or its directory entry was there): the caller asks again.
    /// </summary>
    private static async Task<bool> Answers(Func<Task<bool>> ask)
    {
        try
        {
            return await ask().WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            return false;
        }
    }

    private bool Report(params SiloProcess[] silos)
    {
        foreach (var silo in silos)
            output.WriteLine(silo.Tail());
        return false;
    }

    private static JobSpec Spec(string jobId)
    {
        var spec = new JobSpec
        {
            JobId = jobId,
            BaseModel = "builtin:tiny",
            Rounds = 1,
            LocalSteps = 1,
            MinClientsPerRound = 1,
            ClientsPerRound = 1,
            TaskTimeoutSeconds = TaskTimeoutSeconds,
            Scheduler = new SchedulerSpec { Policy = "synchronous" },
        };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        return spec;
    }
}
