using System.Net;
using System.Text.Json;
using Federated.Contracts.Clients;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Cluster;

/// <summary>
/// The dashboard on two silos of one cluster: the same clients and counts on both, and a sign-in, an antiforgery
/// token and the sign-in throttle valid on both. Each silo has a data folder of its own, so nothing is shared
/// through files (data-protection keys were kept under the data folder before they moved into PostgreSQL).
/// </summary>
public class TwoSiloDashboardTests(ITestOutputHelper output)
{
    private const string Password = "correct horse battery staple";

    private static readonly TimeSpan FewSeconds = TimeSpan.FromSeconds(15);

    private static Dictionary<string, string?> Dashboard => new()
    {
        ["Server:Dashboard:Enabled"] = "true",
        ["Server:Dashboard:Users:alice"] = Password,
        ["Server:Dashboard:ClientRefreshSeconds"] = "1",
    };

    [Fact]
    public async Task Clients_enrolled_through_one_silo_are_listed_with_the_same_counts_on_the_other_and_a_removal_shows_on_both()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var database = await PostgresServer.CreateDatabaseAsync("two-silo-index");
        await using var a = await TwoSiloTests.StartSiloAsync(folder["a"], database, logger, extra: Dashboard);
        await using var b = await TwoSiloTests.StartSiloAsync(folder["b"], database, logger, extra: Dashboard);

        const int Clients = 30;
        using (var toA = GrpcChannel.ForAddress(a.GrpcAddress))
        {
            var coordinator = TestClients.Coordinator(toA);
            await Task.WhenAll(Enumerable.Range(0, Clients).Select(i => coordinator.EnrolAsync(new EnrolRequest { ClientId = $"edge-{i:D2}" }).ResponseAsync));
        }

        // Each operator signs in on its own silo: this test is about the index, not the shared keys.
        using var onA = new OperatorHttp();
        using var onB = new OperatorHttp();
        Assert.Equal(HttpStatusCode.OK, await onA.SignIn(a.HttpAddress, "alice", Password));
        Assert.Equal(HttpStatusCode.OK, await onB.SignIn(b.HttpAddress, "alice", Password));

        var pageOnB = await onB.Until(b.HttpAddress, "/dashboard/api/clients?size=500", p => Total(p) == Clients, FewSeconds);
        Assert.Equal(Enumerable.Range(0, Clients).Select(i => $"edge-{i:D2}"), OperatorHttp.Ids(pageOnB));
        var pageOnA = await onA.Until(a.HttpAddress, "/dashboard/api/clients?size=500", p => Total(p) == Clients, FewSeconds);
        Assert.Equal(OperatorHttp.Counts(pageOnA), OperatorHttp.Counts(pageOnB));
        Assert.Equal((Clients, 0, Clients, 0), OperatorHttp.Counts(pageOnB)); // all live and idle
        var overviewOnB = await onB.Until(b.HttpAddress, "/dashboard/api/overview", o => Total(o) == Clients, FewSeconds);
        Assert.Equal(OperatorHttp.Counts(pageOnB), OperatorHttp.Counts(overviewOnB));

        await onA.TokenFrom(a.HttpAddress);
        var removal = await onA.Post(a.HttpAddress, "/dashboard/api/clients/edge-07/remove", new { });
        Assert.Equal(HttpStatusCode.OK, removal.StatusCode);

        // Removed clients stay listed as removed (and unavailable), as on one silo; gone from every other view.
        foreach (var (silo, session) in new[] { (b.HttpAddress, onB), (a.HttpAddress, onA) })
        {
            var removed = await session.Until(silo, "/dashboard/api/clients?q=removed", p => OperatorHttp.Ids(p).SequenceEqual(["edge-07"]), FewSeconds);
            Assert.Equal((Clients, 0, Clients - 1, 1), OperatorHttp.Counts(removed));
            var idle = await session.Until(silo, "/dashboard/api/clients?q=active&size=500", p => true, FewSeconds);
            Assert.DoesNotContain("edge-07", OperatorHttp.Ids(idle));
            Assert.Equal(Clients - 1, idle.GetProperty("matching").GetInt32());
            var overview = await session.Until(silo, "/dashboard/api/overview", o => OperatorHttp.Counts(o) == (Clients, 0, Clients - 1, 1), FewSeconds);
            Assert.Equal(1, OperatorHttp.Counts(overview).Unavailable);
        }
    }

    [Fact]
    public async Task A_task_taken_through_one_silo_counts_its_client_active_with_its_assignment_on_both()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var database = await PostgresServer.CreateDatabaseAsync("two-silo-tasks");
        // One data folder, as on a shared mount; the adapter bytes are in the database either way.
        await using var a = await TwoSiloTests.StartSiloAsync(folder["shared"], database, logger, extra: Dashboard);
        await using var b = await TwoSiloTests.StartSiloAsync(folder["shared"], database, logger, extra: Dashboard);
        using var toA = GrpcChannel.ForAddress(a.GrpcAddress);
        using var toB = GrpcChannel.ForAddress(b.GrpcAddress);
        var spec = new JobSpec { JobId = "wide", BaseModel = "builtin:tiny", Rounds = 3, LocalSteps = 1, MinClientsPerRound = 2, ClientsPerRound = 2 };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        await new Operator.OperatorClient(toA).CreateJobAsync(new CreateJobRequest { Spec = spec });
        await TestClients.Coordinator(toA).EnrolAsync(new EnrolRequest { ClientId = "waiting" });
        var task = await TestClients.Coordinator(toB).EnrolAndTakeTask("working", waitSeconds: 10);

        foreach (var silo in new[] { a.HttpAddress, b.HttpAddress })
        {
            using var session = new OperatorHttp();
            Assert.Equal(HttpStatusCode.OK, await session.SignIn(silo, "alice", Password));
            var overview = await session.Until(silo, "/dashboard/api/overview", o => OperatorHttp.Counts(o) == (2, 1, 1, 0) && JobCounts(o, "wide") == (2, 1, 1, 0), FewSeconds);
            Assert.False(overview.GetProperty("indexing").GetBoolean());
            var page = await session.Until(silo, "/dashboard/api/clients?q=working", p => OperatorHttp.Ids(p).SequenceEqual(["working"]), FewSeconds);
            var working = page.GetProperty("items")[0];
            Assert.Equal("wide", working.GetProperty("assignedJob").GetString());
            Assert.Equal(task.Lora.Rank, working.GetProperty("assignedRank").GetInt32());
            Assert.Equal(task.LocalSteps, working.GetProperty("assignedSteps").GetInt32());
        }
    }

    /// <summary>Stopping a silo moves its feed partitions to the other, which refill from the client directory: no client is lost, and a silo started later lists them all.</summary>
    [Fact]
    public async Task After_a_silo_stops_the_other_keeps_every_client_and_a_silo_started_later_lists_them_all()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var database = await PostgresServer.CreateDatabaseAsync("two-silo-refill");
        const int Clients = 40;
        // A starts first, so its index's first pull activates every partition there; B's pulls find them on A.
        var a = await TwoSiloTests.StartSiloAsync(folder["a"], database, logger, extra: Dashboard);
        LocalServer b;
        try
        {
            b = await TwoSiloTests.StartSiloAsync(folder["b"], database, logger, extra: Dashboard);
            await VirtualClients.EnrolAsync(a.App.Services.GetRequiredService<IGrainFactory>(), Clients);
            await Until(b, t => t.Clients.Length == Clients, FewSeconds);
        }
        finally
        {
            await a.DisposeAsync();
        }
        await using var _ = b;
        await b.App.Services.GetRequiredService<IGrainFactory>().GetGrain<IClientGrain>(VirtualClients.Name(3)).SetAdmission(ClientAdmission.Paused);
        var onB = await Until(b, t => t.Clients.Length == Clients && t.Counts.Unavailable == 1, FewSeconds);

        await using var c = await TwoSiloTests.StartSiloAsync(folder["c"], database, logger, extra: Dashboard);
        var onC = await Until(c, t => t.Clients.Length == Clients && !t.Indexing, FewSeconds);
        Assert.Equal(onB.Counts, onC.Counts);
        Assert.Equal(onB.Clients.Select(x => x.ClientId), onC.Clients.Select(x => x.ClientId));
        Assert.Equal(ClientAdmission.Paused, onC.Clients.Single(x => x.ClientId == VirtualClients.Name(3)).Admission);
    }

    [Fact]
    public async Task A_sign_in_on_one_silo_is_accepted_by_the_other_and_so_is_its_antiforgery_token()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var database = await PostgresServer.CreateDatabaseAsync("two-silo-cookies");
        // Started together, as a deployment does: they must still agree on one first key.
        var silos = await Task.WhenAll(TwoSiloTests.StartSiloAsync(folder["a"], database, logger, extra: Dashboard), TwoSiloTests.StartSiloAsync(folder["b"], database, logger, extra: Dashboard));
        await using var a = silos[0];
        await using var b = silos[1];

        using var browser = new OperatorHttp();
        Assert.Equal(HttpStatusCode.Unauthorized, await browser.Read(b.HttpAddress));
        Assert.Equal(HttpStatusCode.OK, await browser.SignIn(a.HttpAddress, "alice", Password));
        Assert.Equal(HttpStatusCode.NotFound, await browser.Read(b.HttpAddress)); // signed in on B too

        // A token A issued to the signed-in operator, sent to B with A's antiforgery cookie.
        await browser.TokenFrom(a.HttpAddress);
        var write = await browser.Post(b.HttpAddress, "/dashboard/api/jobs/no-such-job/pause", new { });
        Assert.True(write.StatusCode == HttpStatusCode.NotFound, $"B answered {(int)write.StatusCode}: {await write.Content.ReadAsStringAsync()}");

        // And a token B issued works on A.
        await browser.TokenFrom(b.HttpAddress);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.Post(a.HttpAddress, "/dashboard/api/jobs/no-such-job/pause", new { })).StatusCode);

        // The keys are in the database, not under either data folder.
        await using var connection = new Npgsql.NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM federated_dashboard_keys WHERE friendly_name LIKE 'key-%'", connection);
        Assert.Equal(1L, await count.ExecuteScalarAsync());
        Assert.False(Directory.Exists(Path.Combine(folder["a"], "keys")) || Directory.Exists(Path.Combine(folder["b"], "keys")));
    }

    [Fact]
    public async Task Wrong_passwords_given_to_one_silo_count_on_the_other()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var database = await PostgresServer.CreateDatabaseAsync("two-silo-throttle");
        await using var a = await TwoSiloTests.StartSiloAsync(folder["a"], database, logger, extra: Dashboard);
        await using var b = await TwoSiloTests.StartSiloAsync(folder["b"], database, logger, extra: Dashboard);

        using var guesser = new OperatorHttp();
        // The default limit is 5 wrong passwords per address: 3 on A and 2 on B use it up.
        foreach (var silo in new[] { a.HttpAddress, a.HttpAddress, a.HttpAddress, b.HttpAddress, b.HttpAddress })
            Assert.Equal(HttpStatusCode.Unauthorized, await guesser.SignIn(silo, "alice", "guess"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await guesser.SignIn(b.HttpAddress, "alice", Password));
        Assert.Equal(HttpStatusCode.TooManyRequests, await guesser.SignIn(a.HttpAddress, "alice", Password));
    }

    /// <summary>As `bench --only dashboard` measures one silo: 10,000 clients enrolled through A's grains, then how long until B's index and table hold them all with A's counts.</summary>
    [Fact]
    public async Task Ten_thousand_clients_enrolled_through_one_silo_are_counted_alike_on_both_within_a_few_seconds()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output, Serilog.Events.LogEventLevel.Warning);
        var database = await PostgresServer.CreateDatabaseAsync("two-silo-10k");
        var settings = new Dictionary<string, string?>(Dashboard) { ["Server:HeartbeatIntervalSeconds"] = "600" }; // all stay live throughout
        await using var a = await TwoSiloTests.StartSiloAsync(folder["a"], database, logger, extra: settings);
        await using var b = await TwoSiloTests.StartSiloAsync(folder["b"], database, logger, extra: settings);

        const int Clients = 10_000;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await VirtualClients.EnrolAsync(a.App.Services.GetRequiredService<IGrainFactory>(), Clients);
        var enrolled = clock.Elapsed;
        var tableA = await Until(a, t => t.Clients.Length == Clients, TimeSpan.FromSeconds(30));
        var onA = clock.Elapsed - enrolled;
        var tableB = await Until(b, t => t.Clients.Length == Clients && t.Counts == tableA.Counts, TimeSpan.FromSeconds(30));
        var onB = clock.Elapsed - enrolled;
        output.WriteLine($"{Clients:N0} clients enrolled through silo A in {enrolled.TotalSeconds:F1} s ({Clients / enrolled.TotalSeconds:N0}/s); "
            + $"every one in A's table {onA.TotalSeconds:F2} s and in B's, with A's counts, {onB.TotalSeconds:F2} s after the last enrolment");
        Assert.Equal(new Federated.Server.Clients.ClientCounts(Clients, 0, Clients, 0), tableB.Counts);
        Assert.Equal(tableA.Clients.Select(c => c.ClientId), tableB.Clients.Select(c => c.ClientId));
        Assert.True(onB < TimeSpan.FromSeconds(10), $"B's table took {onB.TotalSeconds:F1} s to catch up");
    }

    /// <summary>The silo's shared client table once it satisfies <paramref name="done"/>.</summary>
    private static async Task<Federated.Server.Dashboard.ClientTable> Until(LocalServer silo, Func<Federated.Server.Dashboard.ClientTable, bool> done, TimeSpan timeout)
    {
        var feed = silo.App.Services.GetRequiredService<Federated.Server.Dashboard.DashboardFeed>();
        using var limit = new CancellationTokenSource(timeout);
        long version = 0;
        Federated.Server.Dashboard.ClientTable? table = null;
        try
        {
            while (true)
            {
                (table, version) = await feed.Clients.NextAsync(version, limit.Token);
                if (done(table))
                    return table;
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            throw new Xunit.Sdk.XunitException($"{silo.HttpAddress}: no client table within {timeout.TotalSeconds} s met the condition; the last had {table?.Clients.Length} clients, counts {table?.Counts}");
        }
    }

    private static int Total(JsonElement view) => OperatorHttp.Counts(view).Total;

    private static (int Total, int Active, int Idle, int Unavailable) JobCounts(JsonElement overview, string jobId)
        => overview.GetProperty("jobs").EnumerateArray().Where(j => j.GetProperty("id").GetString() == jobId).Select(j => j.GetProperty("clients")).Select(c =>
            (c.GetProperty("total").GetInt32(), c.GetProperty("active").GetInt32(), c.GetProperty("idle").GetInt32(), c.GetProperty("unavailable").GetInt32())).FirstOrDefault((-1, -1, -1, -1));

}
