using System.Diagnostics;
using System.Text.RegularExpressions;
using Federated.Protos.V1;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Cluster.Processes;

/// <summary>
/// Three coordinator silos and three client daemons, each its own process, on one PostgreSQL database: killing
/// the silo that hosts a job's scheduler (SIGKILL, while the clients train) costs the job no round, and no update
/// a silo acknowledged goes missing; killing every silo and starting them again resumes the job where it was.
/// </summary>
[Collection(ProcessClusterCollection.Name)]
public partial class SiloFailoverTests(ITestOutputHelper output)
{
    private const int Rounds = 6;

    [Theory]
    [InlineData("synchronous")]
    [InlineData("fedcompass")]
    public async Task Killing_the_silo_that_hosts_the_scheduler_costs_no_round(string policy)
    {
        using var folder = new TemporaryDirectory();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var database = await PostgresServer.CreateDatabaseAsync("failover-" + policy);
        await using var cluster = new ProcessCluster(output, folder.Path, database);
        var settings = Settings(folder.Path, "failover-" + policy, policy);
        try
        {
            await StartAsync(cluster, settings, timeout.Token);
            await UntilAsync(cluster, settings.JobId, cluster.Silos, s => s.CompletedRounds >= 2, timeout.Token);

            var victim = await cluster.HostOfAsync("scheduler", settings.JobId)
                ?? throw new InvalidOperationException("no silo hosts the job's scheduler");
            var roundsBefore = (await cluster.GetJobAsync(settings.JobId, cluster.Silos)).CompletedRounds;
            var clock = Stopwatch.StartNew();
            cluster.Kill(victim);
            var acknowledgedBeforeKill = Acknowledged(cluster);
            var survivors = cluster.Silos.Where(s => s != victim).ToList();
            await UntilAsync(cluster, settings.JobId, survivors, s => s.CompletedRounds > roundsBefore, timeout.Token);
            var recovered = clock.Elapsed;
            var host = await cluster.HostOfAsync("scheduler", settings.JobId);
            output.WriteLine($"{policy}: killed {victim.Name} (the scheduler's host) after round {roundsBefore}; round {roundsBefore + 1} committed {recovered.TotalSeconds:F1} s later on {host?.Name ?? "?"}");

            var done = await UntilAsync(cluster, settings.JobId, survivors, s => s.State != JobState.Running, timeout.Token);
            Assert.Equal(JobState.Completed, done.State);
            Assert.Equal(Rounds, done.Rounds.Count);
            if (policy == "synchronous")
                Assert.All(done.Rounds, r => Assert.Equal(settings.Clients, r.Participants.Count));
            AssertNoAcknowledgedUpdateIsMissing(cluster, done, policy);
            var pages = await cluster.SameClientsOnEveryDashboardAsync(survivors, settings.Clients);
            output.WriteLine($"{policy}: both surviving dashboards list {string.Join(", ", OperatorHttp.Ids(pages[0]))}, counts {OperatorHttp.Counts(pages[0])}");
            // Rounds followed the kill, so every update acknowledged before it must have been aggregated by one.
            Assert.Empty(acknowledgedBeforeKill.Except(InHistory(done)));
        }
        catch (Exception) when (Dump(cluster))
        {
            throw;
        }
    }

    [Fact]
    public async Task Killing_every_silo_and_starting_them_again_resumes_the_job_where_it_was()
    {
        using var folder = new TemporaryDirectory();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var database = await PostgresServer.CreateDatabaseAsync("restart-all");
        await using var cluster = new ProcessCluster(output, folder.Path, database);
        var settings = Settings(folder.Path, "restart-all", "synchronous");
        try
        {
            await StartAsync(cluster, settings, timeout.Token);
            var before = await UntilAsync(cluster, settings.JobId, cluster.Silos, s => s.CompletedRounds >= 2, timeout.Token);
            cluster.KillAllSilos();
            var clock = Stopwatch.StartNew();

            await cluster.StartSilosAsync(3, timeout.Token);
            output.WriteLine($"every silo killed after round {before.CompletedRounds}; all three serving again {clock.Elapsed.TotalSeconds:F1} s later");
            var resumed = await cluster.GetJobAsync(settings.JobId, cluster.Silos);
            Assert.Equal(JobState.Running, resumed.State);
            Assert.True(resumed.CompletedRounds >= before.CompletedRounds, $"the job went back from round {before.CompletedRounds} to {resumed.CompletedRounds}");
            for (var i = 0; i < before.CompletedRounds; i++)
                Assert.Equal(before.Rounds[i].GlobalUpdateSha256, resumed.Rounds[i].GlobalUpdateSha256);

            await UntilAsync(cluster, settings.JobId, cluster.Silos, s => s.CompletedRounds > before.CompletedRounds, timeout.Token);
            output.WriteLine($"the next round committed {clock.Elapsed.TotalSeconds:F1} s after the kill");
            var done = await UntilAsync(cluster, settings.JobId, cluster.Silos, s => s.State != JobState.Running, timeout.Token);
            output.WriteLine($"the job completed {clock.Elapsed.TotalSeconds:F1} s after the kill");
            Assert.Equal(JobState.Completed, done.State);
            Assert.All(done.Rounds, r => Assert.Equal(settings.Clients, r.Participants.Count));
            AssertNoAcknowledgedUpdateIsMissing(cluster, done, "synchronous");
        }
        catch (Exception) when (Dump(cluster))
        {
            throw;
        }
    }

    private static LocalRunSettings Settings(string folder, string jobId, string policy) => new()
    {
        Clients = 3,
        Rounds = Rounds,
        Ranks = [2, 4, 8],
        LocalSteps = 30,
        ExamplesPerClient = 60,
        EvaluationExamples = 20,
        OutputDirectory = folder,
        Scheduler = policy,
        JobId = jobId,
    };

    private static async Task StartAsync(ProcessCluster cluster, LocalRunSettings settings, CancellationToken cancellationToken)
    {
        var shards = LocalFederation.WriteClientData(settings, settings.OutputDirectory);
        await cluster.StartSilosAsync(3, cancellationToken);
        using (var channel = GrpcChannel.ForAddress(cluster.Silos[0].GrpcAddress))
            await new Operator.OperatorClient(channel).CreateJobAsync(new CreateJobRequest { Spec = LocalFederation.JobSpec(settings) }, cancellationToken: cancellationToken);
        for (var i = 0; i < shards.Count; i++)
            cluster.StartDaemon(LocalFederation.ClientName(i), shards[i], rotate: i); // each daemon starts on a different silo
    }

    private static async Task<JobStatus> UntilAsync(ProcessCluster cluster, string jobId, IEnumerable<SiloPorts> through, Func<JobStatus, bool> done, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var status = await cluster.GetJobAsync(jobId, through);
                if (done(status))
                    return status;
                if (status.State is JobState.Failed)
                    throw new InvalidOperationException($"job '{jobId}' is {status.State}: {status.Error}");
            }
            catch (InvalidOperationException e) when (e.Message.StartsWith("no silo answered", StringComparison.Ordinal))
            {
                // the survivors are still taking over the dead silo's grains
            }
            // Separate processes on the real clock: no fake clock reaches them, so their progress is polled.
            await Task.Delay(250, cancellationToken);
        }
    }

    /// <summary>Every update a silo acknowledged to a daemon (its log says so) is in the job's history.</summary>
    private void AssertNoAcknowledgedUpdateIsMissing(ProcessCluster cluster, JobStatus done, string policy)
    {
        var inHistory = InHistory(done);
        var acknowledged = Acknowledged(cluster);
        Assert.NotEmpty(acknowledged);
        var missing = acknowledged.Except(inHistory).ToList();
        output.WriteLine($"{policy}: {acknowledged.Count} acknowledged updates, {inHistory.Count} in the history, {missing.Count} acknowledged but not aggregated");
        if (policy == "synchronous")
            Assert.Empty(missing);
        else // an asynchronous job ends at its last aggregation; updates that arrive while it is made are kept, not aggregated
            Assert.True(missing.Count < cluster.Daemons.Count(), $"{missing.Count} acknowledged updates are missing: {string.Join(", ", missing)}");
    }

    private static HashSet<string> InHistory(JobStatus job)
        => job.Rounds.SelectMany(r => r.Participants).Select(p => p.UpdateSha256).ToHashSet(StringComparer.Ordinal);

    /// <summary>The updates the daemons have logged as accepted by a silo so far.</summary>
    private static HashSet<string> Acknowledged(ProcessCluster cluster)
        => cluster.Daemons.SelectMany(d => d.Lines).Select(l => AcknowledgedLine().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    private bool Dump(ProcessCluster cluster)
    {
        output.WriteLine(cluster.Tails());
        return false;
    }

    [GeneratedRegex("(?:uploaded|accepted as) ([0-9a-f]{64})")]
    private static partial Regex AcknowledgedLine();
}

/// <summary>The process-cluster tests run one at a time: each starts six processes on a small machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessClusterCollection
{
    public const string Name = "Process cluster";
}
