using System.ComponentModel.DataAnnotations;
using System.Net;
using Federated.Contracts;
using Npgsql;

namespace Federated.Server.Cluster;

/// <summary>How the coordinator's silos find each other and keep their state.</summary>
public enum ClusterMode
{
    /// <summary>One silo, state in files under the data directory, no database (the embedded default).</summary>
    Local,

    /// <summary>Any number of silos sharing a PostgreSQL database: membership, grain state, reminders, adapter bytes.</summary>
    Postgres,
}

/// <summary>The "Server:Cluster" settings.</summary>
public sealed class ClusterSettings
{
    public const string Section = "Server:Cluster";

    public ClusterMode Mode { get; set; } = ClusterMode.Local;

    /// <summary>Npgsql connection string of the shared database (Postgres mode); its user creates the schema at first start.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Silos with the same cluster id form one cluster; a second cluster on the same database takes another.</summary>
    [RegularExpression("^[A-Za-z0-9._-]{1,150}$")]
    public string ClusterId { get; set; } = "federated";

    /// <summary>Names the service's durable state (grain state, reminders); keep it across deployments of the same service.</summary>
    [RegularExpression("^[A-Za-z0-9._-]{1,150}$")]
    public string ServiceId { get; set; } = "federated";

    /// <summary>The IP address other silos reach this one at (Postgres mode); empty: this machine's first non-loopback IPv4 address.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>Where adapter bytes are kept; unset: Files in Local mode, Postgres in Postgres mode.</summary>
    public Storage.Blobs.AdapterStoreKind? AdapterStore { get; set; }

    /// <summary>The adapter store in effect: the one set, else the mode's default.</summary>
    public Storage.Blobs.AdapterStoreKind EffectiveAdapterStore
        => AdapterStore ?? (Mode == ClusterMode.Postgres ? Storage.Blobs.AdapterStoreKind.Postgres : Storage.Blobs.AdapterStoreKind.Files);

    /// <summary>Every broken setting, each naming its key; empty when the section is usable.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var error in Core.Configuration.AnnotatedOptionsValidator<ClusterSettings>.Errors(this, Section))
            yield return error;
        if (!string.IsNullOrWhiteSpace(AdvertisedAddress) && !IPAddress.TryParse(AdvertisedAddress, out _))
            yield return $"{Section}:AdvertisedAddress: '{Excerpt.Of(AdvertisedAddress)}' is not an IP address";
        if (AdapterStore is { } store && !Enum.IsDefined(store))
            yield return $"{Section}:AdapterStore: '{store}' is not an adapter store; use Files or Postgres";
        if (Mode != ClusterMode.Postgres)
        {
            if (AdapterStore == Storage.Blobs.AdapterStoreKind.Postgres)
                yield return $"{Section}:AdapterStore: Postgres keeps adapters in the cluster's database, so it needs {Section}:Mode Postgres (and its ConnectionString); Local mode uses Files";
            yield break;
        }
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return $"{Section}:ConnectionString: Mode is Postgres, so a PostgreSQL connection string is needed (Host=…;Database=…;Username=…)";
            yield break;
        }
        string? problem = null;
        try
        {
            var parsed = new NpgsqlConnectionStringBuilder(ConnectionString);
            if (string.IsNullOrWhiteSpace(parsed.Host))
                problem = "it names no Host";
        }
        catch (ArgumentException e)
        {
            problem = $"it does not parse ({e.Message})";
        }
        if (problem is not null)
            yield return $"{Section}:ConnectionString: {problem}";
    }

    /// <summary>The address to advertise: the configured one, else the first non-loopback IPv4 address, else loopback.</summary>
    public IPAddress AdvertisedIp()
    {
        if (!string.IsNullOrWhiteSpace(AdvertisedAddress))
            return IPAddress.Parse(AdvertisedAddress);
        var found = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        return found ?? IPAddress.Loopback;
    }

    /// <summary>The connection string with its password removed, for messages.</summary>
    public static string Describe(string connectionString)
    {
        try
        {
            var parsed = new NpgsqlConnectionStringBuilder(connectionString);
            return $"Host={parsed.Host};Port={parsed.Port};Database={parsed.Database};Username={parsed.Username}";
        }
        catch (ArgumentException)
        {
            return "(unparsable)";
        }
    }
}
