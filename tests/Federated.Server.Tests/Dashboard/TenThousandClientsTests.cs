using Federated.Contracts.Clients;
using Federated.Protos.V1;
using Federated.Server.Clients;
using Federated.Server.Dashboard;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Federated.Server.Tests.Dashboard;

/// <summary>
/// The dashboard's data at 10,000 enrolled clients: the feed's client pages (50 a page, filtered by text) and the
/// overview's counts, before and after a restart that rebuilds the client index from the persisted clients.
/// </summary>
public class TenThousandClientsTests
{
    private const int Clients = 10_000;
    private static readonly int[] Paused = [3, 103, 2003, 4003, 6003, 8003, 9999];
    private static readonly int[] Removed = [5, 50, 500];

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Server:Dashboard:Enabled"] = "true",
        ["Server:Dashboard:Password"] = "scale",
        ["Server:Dashboard:ClientRefreshSeconds"] = "1",
        // Every client stays live (seen within 3·60 + 20 s of its enrolment) for the whole test.
        ["Server:HeartbeatIntervalSeconds"] = "60",
    };

    [Fact]
    public async Task Pages_filters_and_counts_of_10000_clients_are_right_and_survive_a_restart()
    {
        using var folder = new TemporaryDirectory();
        await using (var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None, settings: Settings))
        {
            var grains = server.App.Services.GetRequiredService<IGrainFactory>();
            await VirtualClients.EnrolAsync(grains, Clients);
            foreach (var i in Paused)
                await grains.GetGrain<IClientGrain>(VirtualClients.Name(i)).SetAdmission(ClientAdmission.Paused);
            foreach (var i in Removed)
                await grains.GetGrain<IClientGrain>(VirtualClients.Name(i)).SetAdmission(ClientAdmission.Removed);

            using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
            var spec = new JobSpec { JobId = "wide", BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1, ClientsPerRound = 2, LocalSteps = 1 };
            spec.TargetModules.Add("q_proj");
            spec.Ranks.Add(2);
            await new Operator.OperatorClient(channel).CreateJobAsync(new CreateJobRequest { Spec = spec });
            var coordinator = TestClients.Coordinator(channel);
            await coordinator.EnrolAsync(new EnrolRequest { ClientId = VirtualClients.Name(42) }); // its credential (enrolled through the grains, it had none)
            var task = await coordinator.PollTaskAsync(new PollTaskRequest { ClientId = VirtualClients.Name(42), WaitSeconds = 10 });
            Assert.Equal("wide", task.Task.JobId);

            var feed = server.App.Services.GetRequiredService<DashboardFeed>();
            var table = await Until(feed.Clients, t => t.Clients.Length == Clients && t.Counts.Unavailable == Paused.Length + Removed.Length && t.JobCounts.GetValueOrDefault("wide")?.Active == 1);
            CheckPages(table);
            var overview = await Until(feed.Overview, o => o.Jobs.Length == 1 && o.Jobs[0].Clients?.Active == 1);
            Assert.Equal(new ClientCounts(Clients, 1, Clients - 11, 10), overview.Clients); // the one with a task is active
            Assert.Equal(new ClientCounts(Clients, 1, Clients - 11, 10), overview.Jobs[0].Clients);
        }

        // After a restart the index is rebuilt from the client directory and the grains' persisted state.
        await using (var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None, settings: Settings))
        {
            var feed = server.App.Services.GetRequiredService<DashboardFeed>();
            var table = await Until(feed.Clients, t => t.Clients.Length == Clients && !t.Indexing);
            Assert.Equal(new ClientCounts(Clients, 1, Clients - 11, 10), table.Counts);
            CheckPages(table);
            var overview = await Until(feed.Overview, o => o.Jobs.Length == 1 && !o.Indexing);
            Assert.Equal(new ClientCounts(Clients, 1, Clients - 11, 10), overview.Jobs[0].Clients); // its open task survived
            Assert.Equal(Clients, server.App.Services.GetRequiredService<ClientIndex>().Count);
        }
    }

    private static void CheckPages(ClientTable table)
    {
        var third = DashboardViews.Page(table, null, page: 2, pageSize: 50);
        Assert.Equal(Clients, third.Matching);
        Assert.Equal(Enumerable.Range(100, 50).Select(VirtualClients.Name), third.Items.Select(c => c.Id));
        Assert.Equal(Clients - 11, table.Counts.Idle);

        var byId = DashboardViews.Page(table, "virtual-0042", page: 0, pageSize: 50);
        Assert.Equal(10, byId.Matching);
        Assert.Equal(Enumerable.Range(420, 10).Select(VirtualClients.Name), byId.Items.Select(c => c.Id));

        var cuda = DashboardViews.Page(table, "A100", page: 3, pageSize: 50);
        Assert.Equal(Clients / 10, cuda.Matching);
        Assert.Equal(Enumerable.Range(150, 50).Select(i => VirtualClients.Name(i * 10)), cuda.Items.Select(c => c.Id));
        Assert.All(cuda.Items, c => Assert.Equal("cuda", c.Device));

        var paused = DashboardViews.Page(table, "PAUSED", page: 0, pageSize: 50);
        Assert.Equal(Paused.Select(VirtualClients.Name), paused.Items.Select(c => c.Id));
        Assert.All(paused.Items, c => Assert.False(c.Available));
        var removed = DashboardViews.Page(table, "removed", page: 0, pageSize: 50);
        Assert.Equal(Removed.Order().Select(VirtualClients.Name), removed.Items.Select(c => c.Id));

        var past = DashboardViews.Page(table, "virtual-0042", page: 1, pageSize: 50);
        Assert.Equal(10, past.Matching);
        Assert.Empty(past.Items);
    }

    /// <summary>The feed's first value that satisfies <paramref name="done"/>; fails after a minute.</summary>
    private static async Task<T> Until<T>(Latest<T> latest, Func<T, bool> done) where T : class
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        long version = 0;
        T? last = null;
        try
        {
            while (true)
            {
                (last, version) = await latest.NextAsync(version, timeout.Token);
                if (done(last))
                    return last;
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the dashboard feed did not reach the expected state in a minute; last: {last}");
            throw;
        }
    }
}
