using System.Net;
using System.Text.Json;
using Federated.Protos.V1;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
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
        await using var a = await TwoSiloTests.StartSiloAsync(folder["a"], database, logger, Dashboard);
        await using var b = await TwoSiloTests.StartSiloAsync(folder["b"], database, logger, Dashboard);

        const int Clients = 30;
        using (var toA = GrpcChannel.ForAddress(a.GrpcAddress))
        {
            var coordinator = new Coordinator.CoordinatorClient(toA);
            await Task.WhenAll(Enumerable.Range(0, Clients).Select(i => coordinator.EnrolAsync(new EnrolRequest { ClientId = $"edge-{i:D2}" }).ResponseAsync));
        }

        // Each operator signs in on its own silo: this test is about the index, not the shared keys.
        using var onA = new OperatorHttp();
        using var onB = new OperatorHttp();
        Assert.Equal(HttpStatusCode.OK, await onA.SignIn(a.HttpAddress, "alice", Password));
        Assert.Equal(HttpStatusCode.OK, await onB.SignIn(b.HttpAddress, "alice", Password));

        var pageOnB = await onB.Until(b.HttpAddress, "/dashboard/api/clients?size=500", p => Total(p) == Clients, FewSeconds);
        Assert.Equal(Enumerable.Range(0, Clients).Select(i => $"edge-{i:D2}"), Ids(pageOnB));
        var pageOnA = await onA.Until(a.HttpAddress, "/dashboard/api/clients?size=500", p => Total(p) == Clients, FewSeconds);
        Assert.Equal(Counts(pageOnA), Counts(pageOnB));
        Assert.Equal((Clients, 0, Clients, 0), Counts(pageOnB)); // all live and idle
        var overviewOnB = await onB.Until(b.HttpAddress, "/dashboard/api/overview", o => Total(o) == Clients, FewSeconds);
        Assert.Equal(Counts(pageOnB), Counts(overviewOnB));

        await onA.TokenFrom(a.HttpAddress);
        var removal = await onA.Post(a.HttpAddress, "/dashboard/api/clients/edge-07/remove", new { });
        Assert.Equal(HttpStatusCode.OK, removal.StatusCode);

        // Removed clients stay listed as removed (and unavailable), as on one silo; gone from every other view.
        foreach (var (silo, session) in new[] { (b.HttpAddress, onB), (a.HttpAddress, onA) })
        {
            var removed = await session.Until(silo, "/dashboard/api/clients?q=removed", p => Ids(p).SequenceEqual(["edge-07"]), FewSeconds);
            Assert.Equal((Clients, 0, Clients - 1, 1), Counts(removed));
            var idle = await session.Until(silo, "/dashboard/api/clients?q=active&size=500", p => true, FewSeconds);
            Assert.DoesNotContain("edge-07", Ids(idle));
            Assert.Equal(Clients - 1, idle.GetProperty("matching").GetInt32());
            var overview = await session.Until(silo, "/dashboard/api/overview", o => Counts(o) == (Clients, 0, Clients - 1, 1), FewSeconds);
            Assert.Equal(1, Counts(overview).Unavailable);
        }
    }

    [Fact]
    public async Task A_sign_in_on_one_silo_is_accepted_by_the_other_and_so_is_its_antiforgery_token()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var database = await PostgresServer.CreateDatabaseAsync("two-silo-cookies");
        await using var a = await TwoSiloTests.StartSiloAsync(folder["a"], database, logger, Dashboard);
        await using var b = await TwoSiloTests.StartSiloAsync(folder["b"], database, logger, Dashboard);

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
    }

    [Fact]
    public async Task Wrong_passwords_given_to_one_silo_count_on_the_other()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var database = await PostgresServer.CreateDatabaseAsync("two-silo-throttle");
        await using var a = await TwoSiloTests.StartSiloAsync(folder["a"], database, logger, Dashboard);
        await using var b = await TwoSiloTests.StartSiloAsync(folder["b"], database, logger, Dashboard);

        using var guesser = new OperatorHttp();
        // The default limit is 5 wrong passwords per address: 3 on A and 2 on B use it up.
        foreach (var silo in new[] { a.HttpAddress, a.HttpAddress, a.HttpAddress, b.HttpAddress, b.HttpAddress })
            Assert.Equal(HttpStatusCode.Unauthorized, await guesser.SignIn(silo, "alice", "guess"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await guesser.SignIn(b.HttpAddress, "alice", Password));
        Assert.Equal(HttpStatusCode.TooManyRequests, await guesser.SignIn(a.HttpAddress, "alice", Password));
    }

    private static int Total(JsonElement view) => Counts(view).Total;

    /// <summary>A clients page's counts ("counts") or the overview's ("clients").</summary>
    private static (int Total, int Active, int Idle, int Unavailable) Counts(JsonElement view)
    {
        var counts = view.TryGetProperty("counts", out var c) ? c : view.GetProperty("clients");
        return (counts.GetProperty("total").GetInt32(), counts.GetProperty("active").GetInt32(), counts.GetProperty("idle").GetInt32(), counts.GetProperty("unavailable").GetInt32());
    }

    private static string[] Ids(JsonElement page) => [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!)];
}
