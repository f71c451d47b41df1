using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace Federated.Server.Cluster;

/// <summary>
/// The coordinator's own PostgreSQL schema, as numbered versions (Cluster/Schema/NNNN-name.sql, embedded):
/// <see cref="ApplyAsync"/> brings a database up to this build's newest version at start. Silos starting together
/// take turns on a session advisory lock, so each version is applied once; each version runs in its own
/// transaction with its row in <c>federated_schema</c>, so a failed one leaves the database at the one before.
/// A database already at a version newer than this build knows is refused: an older server must not write to
/// tables it does not understand.
/// </summary>
public static partial class PostgresSchema
{
    /// <summary>The advisory lock's key (any fixed 64-bit number; this one spells "fedschem" in ASCII).</summary>
    private const long LockKey = 0x6665_6473_6368_656D;

    /// <summary>The versions this build carries, in order.</summary>
    public static IReadOnlyList<SchemaVersion> Versions { get; } = Load();

    /// <summary>The newest version this build knows.</summary>
    public static int Newest => Versions[^1].Number;

    /// <summary>
    /// Applies every version the database lacks and returns the versions applied (empty: it was current).
    /// Throws <see cref="ClusterStartupException"/> naming the setting when the database cannot be reached or
    /// its schema is newer than this build.
    /// </summary>
    public static async Task<IReadOnlyList<SchemaVersion>> ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException or ArgumentException)
        {
            throw new ClusterStartupException(
                $"{ClusterSettings.Section}:ConnectionString: cannot reach the database at {ClusterSettings.Describe(connectionString)}: {e.Message}", e);
        }

        await Execute(connection, null, $"SELECT pg_advisory_lock({LockKey})", cancellationToken).ConfigureAwait(false);
        try
        {
            await Execute(connection, null,
                "CREATE TABLE IF NOT EXISTS federated_schema (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                cancellationToken).ConfigureAwait(false);
            var (current, currentName) = await CurrentAsync(connection, cancellationToken).ConfigureAwait(false);
            if (current > Newest)
                throw new ClusterStartupException(
                    $"{ClusterSettings.Section}:ConnectionString: the database {ClusterSettings.Describe(connectionString)} has schema version {current} ({currentName}), "
                    + $"newer than this server's newest, {Newest}: run a server at least as new as the one that upgraded it");

            var applied = new List<SchemaVersion>();
            foreach (var version in Versions.Where(v => v.Number > current))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await Execute(connection, transaction, version.Sql, cancellationToken).ConfigureAwait(false);
                await using (var record = new NpgsqlCommand("INSERT INTO federated_schema (version, name) VALUES (@version, @name)", connection, transaction))
                {
                    record.Parameters.AddWithValue("version", version.Number);
                    record.Parameters.AddWithValue("name", version.Name);
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                applied.Add(version);
            }
            return applied;
        }
        finally
        {
            await Execute(connection, null, $"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>The database's schema version (0: none yet) and its name.</summary>
    public static async Task<(int Version, string Name)> CurrentAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default)
    {
        await using var read = new NpgsqlCommand("SELECT version, name FROM federated_schema ORDER BY version DESC LIMIT 1", connection);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? (reader.GetInt32(0), reader.GetString(1)) : (0, "none");
    }

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static List<SchemaVersion> Load()
    {
        var assembly = typeof(PostgresSchema).Assembly;
        var versions = new List<SchemaVersion>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = ResourceName().Match(resource);
            if (!match.Success)
                continue;
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            versions.Add(new SchemaVersion(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), match.Groups[2].Value, reader.ReadToEnd()));
        }
        versions.Sort((a, b) => a.Number.CompareTo(b.Number));
        for (var i = 0; i < versions.Count; i++)
            if (versions[i].Number != i + 1)
                throw new InvalidOperationException($"the embedded schema versions are not 1, 2, 3, …: found {string.Join(", ", versions.Select(v => v.Number))}");
        return versions;
    }

    [GeneratedRegex(@"^Federated\.Schema\.(\d{4})-([a-z0-9-]+)\.sql$")]
    private static partial Regex ResourceName();
}

/// <summary>One numbered version of the schema: its SQL, run once.</summary>
public sealed record SchemaVersion(int Number, string Name, string Sql);

/// <summary>The cluster cannot start: a setting to fix, named in the message.</summary>
public sealed class ClusterStartupException(string message, Exception? inner = null) : Exception(message, inner);
