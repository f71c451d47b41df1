using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace Federated.Server.Cluster;

/// <summary>
/// Postgres mode's data-protection key ring, in <c>federated_dashboard_keys</c> (schema version 3): every silo
/// reads and writes the same keys, so dashboard cookies and antiforgery tokens made by one are valid on all. The
/// key manager calls it synchronously (its interface has no async form), rarely: at the first use and when the
/// ring is refreshed (a day, or a key it does not know).
/// </summary>
public sealed class PostgresXmlRepository(string connectionString, string serviceId) : IXmlRepository
{
    /// <summary>The advisory lock the first key is made under (any fixed 64-bit number; "fedkeys" in ASCII).</summary>
    private const long FirstKeyLock = 0x0066_6564_6B65_7973;

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = Open();
        using var read = new NpgsqlCommand("SELECT xml FROM federated_dashboard_keys WHERE service_id = @service ORDER BY stored_at, friendly_name", connection);
        read.Parameters.AddWithValue("service", serviceId);
        using var reader = read.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read())
            elements.Add(XElement.Parse(reader.GetString(0)));
        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        // The key manager names keys "key-<guid>" and revocations by date; either way one row each.
        var name = string.IsNullOrWhiteSpace(friendlyName) ? Guid.NewGuid().ToString("N") : friendlyName;
        using var connection = Open();
        using var write = new NpgsqlCommand(
            "INSERT INTO federated_dashboard_keys (service_id, friendly_name, xml) VALUES (@service, @name, @xml) "
            + "ON CONFLICT (service_id, friendly_name) DO UPDATE SET xml = excluded.xml, stored_at = now()", connection);
        write.Parameters.AddWithValue("service", serviceId);
        write.Parameters.AddWithValue("name", name);
        write.Parameters.AddWithValue("xml", element.ToString(SaveOptions.DisableFormatting));
        write.ExecuteNonQuery();
    }

    /// <summary>
    /// Makes the first key if the ring has no key valid now, under an advisory lock: silos starting together
    /// would otherwise each make one, and one that read the ring before another's write would not know the other
    /// key (cookies from that silo refused) until its next refresh.
    /// </summary>
    public void EnsureKey(IKeyManager keys, DateTimeOffset now, TimeSpan lifetime)
    {
        using var connection = Open();
        using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({FirstKeyLock})", connection))
            take.ExecuteNonQuery();
        try
        {
            if (!keys.GetAllKeys().Any(k => !k.IsRevoked && k.ActivationDate <= now && k.ExpirationDate > now))
                keys.CreateNewKey(now, now + lifetime);
        }
        finally
        {
            using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({FirstKeyLock})", connection);
            release.ExecuteNonQuery();
        }
    }

    private NpgsqlConnection Open()
    {
        var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        return connection;
    }
}

/// <summary>Makes the shared ring's first key at start (<see cref="PostgresXmlRepository.EnsureKey"/>), before any request needs one.</summary>
public sealed class FirstDashboardKey(PostgresXmlRepository repository, IKeyManager keys, TimeProvider time) : IHostedService
{
    /// <summary>ASP.NET's own default key lifetime; later keys the key manager makes itself, two days before this one expires.</summary>
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(90);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        repository.EnsureKey(keys, time.GetUtcNow(), Lifetime);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
