using Federated.Server.Clients;
using Federated.Server.Hosting;
using Federated.Server.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;

namespace Federated.Server.Cluster;

/// <summary>
/// The silo's clustering, grain storage and reminders, by <see cref="ClusterSettings.Mode"/>: Local is one silo on
/// loopback with state files under the data directory and reminders in memory (the embedded default, no database;
/// <see cref="Scheduling.SchedulersAtStart"/> stands in for the reminders a restart loses); Postgres uses
/// Orleans' own ADO.NET providers on the shared database, whose schema <see cref="PostgresSchema"/> keeps.
/// </summary>
public static class ClusterHosting
{
    /// <summary>The ADO.NET invariant name Orleans loads Npgsql's provider factory by.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>
    /// Membership settings chosen so that a silo killed outright is declared dead within about 15 s (measured in
    /// SiloDeathTests), after which its grains (a job's scheduler) reactivate on the others from persisted state.
    /// Orleans 10 probes each monitored silo once per probe period, an adaptive timeout kept within
    /// [MinProbeTimeout, MaxProbeTimeout] = [1 s, 4 s] (ProbeTimeout 2 s to start with). NumMissedProbesLimit = 3
    /// failed probes in a row make a suspicion, the third one indirect, through another silo, whose vote counts too.
    /// A dead silo is evicted on min(NumVotesForDeathDeclaration = 2, ⌈live silos / 2⌉) fresh votes: one survivor's
    /// indirect probe brings both. Worst case: 3 periods × 4 s = 12 s, plus the table write and gossip (under a
    /// second); a SIGKILLed silo's port refuses connections at once, so each probe fails in milliseconds and the
    /// period stays near its healthy 1–2 s (3–6 s in all). A hung silo that keeps its sockets open is voted on only
    /// once nothing came from it for MaxProbeTimeout × NumMissedProbesLimit = 12 s (EnableConnectionLivenessCheck).
    /// NumProbedSilos = 3: every silo watches three others. IAmAlive heartbeats every 5 s, stale after 3 missed
    /// (15 s): a stale silo is not counted among the live ones, so when several die together the survivors' votes
    /// still suffice. The table is re-read every 10 s in case gossip missed a change; votes stay fresh 60 s, far longer
    /// than one detection. Orleans' defaults (5 s initial probes, up to 20 s, 60 s table refresh, 30 s heartbeats)
    /// take up to a minute, during which the dead silo's grains cannot move. No external Orleans client is used (the
    /// gRPC services run in the silos), so the client-side GatewayListRefreshPeriod does not matter here.
    /// </summary>
    public static void ConfigureMembership(ClusterMembershipOptions membership)
    {
        membership.ProbeTimeout = TimeSpan.FromSeconds(2);
        membership.MinProbeTimeout = TimeSpan.FromSeconds(1);
        membership.MaxProbeTimeout = TimeSpan.FromSeconds(4);
        membership.NumMissedProbesLimit = 3;
        membership.NumProbedSilos = 3;
        membership.NumVotesForDeathDeclaration = 2;
        membership.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
        membership.NumMissedTableIAmAliveLimit = 3;
        membership.TableRefreshTimeout = TimeSpan.FromSeconds(10);
        membership.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(60);
        // Rows of silos dead for a day are removed (the defunct-silo cleanup query), so restarts do not pile up.
        membership.DefunctSiloExpiration = TimeSpan.FromDays(1);
        membership.DefunctSiloCleanupPeriod = TimeSpan.FromHours(1);
    }

    /// <summary>Postgres mode: brings the shared database's schema up to date before any silo component reads it.</summary>
    public static void PrepareDatabase(ServerOptions options)
    {
        if (options.Cluster.Mode != ClusterMode.Postgres)
            return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        PostgresSchema.ApplyAsync(options.Cluster.ConnectionString!, timeout.Token).GetAwaiter().GetResult();
    }

    /// <summary>
    /// Where grains' client-index changes go: Local mode, straight into the one silo's <see cref="ClientIndex"/>;
    /// Postgres mode, to the feed partitions every silo pulls from, so each silo's index and the dashboard's
    /// counts are the same within about <see cref="ClientIndexSync.Period"/>.
    /// </summary>
    public static void AddClientIndexUpdates(IServiceCollection services, ServerOptions options)
    {
        if (options.Cluster.Mode == ClusterMode.Local)
        {
            services.AddSingleton<IClientIndexUpdates>(s => s.GetRequiredService<ClientIndex>());
            return;
        }
        services.AddSingleton<ClientIndexSync>();
        services.AddHostedService(s => s.GetRequiredService<ClientIndexSync>());
        services.AddSingleton<ClientIndexPublisher>();
        services.AddSingleton<IClientIndexUpdates>(s => s.GetRequiredService<ClientIndexPublisher>());
        services.AddHostedService(s => s.GetRequiredService<ClientIndexPublisher>());
    }

    public static void Configure(ISiloBuilder silo, ServerOptions options)
    {
        var cluster = options.Cluster;
        // Grains ask for these in both modes; only the file storage finds damaged state to record.
        silo.Services.TryAddSingleton<DamagedStateFiles>();
        silo.Services.TryAddSingleton<Jobs.StateDamageResponse>();
        // The keep-alive reminders (KeepAliveReminder) tick every Server:KeepAliveSeconds, in both modes; Orleans refuses
        // a period under its minimum (one minute), so a shorter one (tests) lowers the minimum with it.
        var keepAlive = TimeSpan.FromSeconds(options.KeepAliveSeconds);
        if (keepAlive < TimeSpan.FromMinutes(1))
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = keepAlive);
        if (cluster.Mode == ClusterMode.Local)
        {
            silo.UseLocalhostClustering(siloPort: options.SiloPort, gatewayPort: 0);
            silo.AddFileGrainStorage(StorageNames.State, Path.Combine(options.DataPath, "state"));
            silo.UseInMemoryReminderService();
            silo.Services.AddHostedService<Scheduling.SchedulersAtStart>(); // in-memory reminders do not survive a restart
            return;
        }

        var connection = cluster.ConnectionString!;
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        silo.ConfigureEndpoints(cluster.AdvertisedIp(), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
        silo.Configure<ClusterMembershipOptions>(ConfigureMembership);
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connection;
        });
        silo.AddAdoNetGrainStorage(StorageNames.State, o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connection;
            o.DeleteStateOnClear = true; // as the file storage does: a cleared grain leaves no row
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connection;
        });
    }
}
