using System.Globalization;
using System.Text.RegularExpressions;
using Federated.Server.Cluster;
using Federated.Server.Hosting;

namespace Federated.Server.Storage.Blobs;

/// <summary>Which backend keeps adapter bytes ("Server:Cluster:AdapterStore").</summary>
public enum AdapterStoreKind
{
    /// <summary>Files under the data directory's adapters/ folder: one silo's own, or a mount every silo shares.</summary>
    Files,

    /// <summary>Chunked rows in the cluster's PostgreSQL database (Postgres mode only).</summary>
    Postgres,
}

/// <summary>Builds the silo's <see cref="AdapterStore"/> from the settings.</summary>
public static partial class AdapterStores
{
    /// <summary>The owner of a Local-mode store: the one silo there is.</summary>
    public const string LocalOwner = "local";

    public static AdapterStore Create(ServerOptions options)
    {
        var root = Path.Combine(options.DataPath, "adapters");
        IAdapterBlobs blobs = options.Cluster.EffectiveAdapterStore == AdapterStoreKind.Postgres
            ? new PostgresAdapterBlobs(options.Cluster.ConnectionString!)
            : new FileAdapterBlobs(root);
        return new AdapterStore(root, blobs, OwnerOf(options));
    }

    /// <summary>
    /// This silo's stable name for the uploads it has in flight: "local" in Local mode; in Postgres mode the address
    /// and silo port other silos reach it at (unique in a cluster, and the same again when the silo restarts).
    /// </summary>
    public static string OwnerOf(ServerOptions options)
        => options.Cluster.Mode == ClusterMode.Local
            ? LocalOwner
            : Unsafe().Replace($"{options.Cluster.AdvertisedIp()}-{options.SiloPort.ToString(CultureInfo.InvariantCulture)}", "_");

    public static bool IsValidOwner(string owner) => owner.Length is > 0 and <= 100 && !Unsafe().IsMatch(owner) && owner is not ("." or "..");

    [GeneratedRegex("[^A-Za-z0-9._-]")]
    private static partial Regex Unsafe();
}
