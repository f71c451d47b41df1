using Federated.Server.Hosting;
using Federated.Server.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;

namespace Federated.Server.Cluster;

/// <summary>
/// The silo's clustering, grain storage and reminders, by <see cref="ClusterSettings.Mode"/>: Local is one silo on
/// loopback with state files under the data directory (the embedded default, no database); Postgres uses
/// Orleans' own ADO.NET providers on the shared database, whose schema <see cref="PostgresSchema"/> keeps.
/// </summary>
public static class ClusterHosting
{
    /// <summary>The ADO.NET invariant name Orleans loads Npgsql's provider factory by.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>
    /// Membership settings chosen so that a silo killed outright is declared dead in about 10 s (measured in
    /// ClusterFailoverTests): every silo probes 3 others every 2 s; 3 missed probes in a row make a suspicion and
    /// 2 suspicions (one where only two silos are left) a death. A SIGKILLed silo's sockets close at once, so its
    /// probes fail fast rather than waiting out the timeout. Orleans' defaults (10 s probes, 3 misses, 2 votes)
    /// take about a minute, during which the dead silo's grains (a job's scheduler) cannot move.
    /// </summary>
    public static void ConfigureMembership(ClusterMembershipOptions membership)
    {
        membership.ProbeTimeout = TimeSpan.FromSeconds(2);
        membership.NumMissedProbesLimit = 3;
        membership.NumProbedSilos = 3;
        membership.NumVotesForDeathDeclaration = 2;
        membership.TableRefreshTimeout = TimeSpan.FromSeconds(10);
        membership.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(60);
        membership.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(30);
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
