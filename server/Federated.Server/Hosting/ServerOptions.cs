using System.ComponentModel.DataAnnotations;

namespace Federated.Server.Hosting;

/// <summary>The coordinator's settings (appsettings.json section "Server").</summary>
public sealed class ServerOptions
{
    public const string Section = "Server";

    /// <summary>Where job state and adapters are kept; relative paths are under the working directory.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>Address both endpoints listen on: 0.0.0.0 for every interface, 127.0.0.1 for this machine only.</summary>
    [Required]
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>gRPC (HTTP/2) port for client daemons and operators.</summary>
    [Range(1, 65535)]
    public int GrpcPort { get; set; } = 50051;

    /// <summary>HTTP/1.1 port for health checks and the dashboard.</summary>
    [Range(1, 65535)]
    public int HttpPort { get; set; } = 8080;

    /// <summary>TLS on both endpoints: "Server:Tls" (by default on unless ListenAddress is a loopback address).</summary>
    public Tls.TlsSettings Tls { get; set; } = new();

    /// <summary>Allows plain HTTP on a ListenAddress other machines reach (Server:Tls:Mode Off): a warning at start and on the dashboard.</summary>
    public bool AllowInsecure { get; set; }

    /// <summary>Orleans silo-to-silo port; in a cluster each silo's own, fixed, reachable from the other silos.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Orleans gateway port (Postgres mode; a Local silo opens none): each silo's own, fixed.</summary>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Local (one process, files) or Postgres (several silos on a shared database): "Server:Cluster".</summary>
    public Cluster.ClusterSettings Cluster { get; set; } = new();

    /// <summary>Largest data chunk in an adapter stream.</summary>
    [Range(4096, 4 * 1024 * 1024 - 65536)]
    public int MaxChunkBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest update payload a client may upload.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxUpdateBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>
    /// Most training examples one update may claim (num_samples weights it in aggregation); an update claiming
    /// more is refused at the door, so no client can outweigh the rest or overflow a round's sums.
    /// </summary>
    [Range(typeof(long), "1", "1000000000000")]
    public long MaxSamplesPerUpdate { get; set; } = 1_000_000_000;

    [Range(1, 3600)]
    public int HeartbeatIntervalSeconds { get; set; } = 10;

    /// <summary>Longest a PollTask call is held waiting for work.</summary>
    [Range(1, 25)]
    public int MaxPollWaitSeconds { get; set; } = 20;

    /// <summary>How often each job's scheduler checks deadlines.</summary>
    [Range(1, 3600)]
    public int SchedulerTickSeconds { get; set; } = 2;

    /// <summary>
    /// Period of the Orleans reminder that keeps each unsettled job's scheduler and job grains alive: after their silo
    /// dies, the next tick reactivates them on another (worst case this plus the death declaration). Orleans' minimum
    /// reminder period is lowered to it when it is under a minute, which Orleans warns is for tests only.
    /// </summary>
    [Range(1, 3600)]
    public int KeepAliveSeconds { get; set; } = 60;

    /// <summary>Shards (groups of whole layers) a round's aggregation is split into, each on its own grain.</summary>
    [Range(1, 4096)]
    public int AggregationShards { get; set; } = 4;

    /// <summary>Shards aggregated at once; memory is about this share of the round's updates and output.</summary>
    [Range(1, 4096)]
    public int AggregationParallelism { get; set; } = 1;

    /// <summary>When set, client daemons must present it ("authorization: Bearer …"); empty: no check.</summary>
    public string? ClientToken { get; set; }

    /// <summary>When set, operator calls (jobs) must present it; empty: no check.</summary>
    public string? OperatorToken { get; set; }

    /// <summary>
    /// Folders the server may read evaluation datasets from (a job's evaluation_dataset must lie under one,
    /// after links are followed). Empty: the working directory and the data directory. Never /dev, /proc or
    /// /sys; each folder given must exist.
    /// </summary>
    public string[] DataRoots { get; set; } = [];

    public string DataPath => Path.GetFullPath(DataDirectory);

    /// <summary>The folders <see cref="DataRoots"/> names, as full paths, or the defaults.</summary>
    public IReadOnlyList<string> DataRootPaths => DataRoots.Length > 0
        ? [.. DataRoots.Select(Path.GetFullPath)]
        : [Path.GetFullPath(Directory.GetCurrentDirectory()), DataPath];
}
