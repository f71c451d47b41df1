using Npgsql;

namespace Federated.Server.Cluster;

/// <summary>
/// The cluster's TLS CA in the shared database (schema version 4), one per service: the first silo to start with
/// TLS stores the CA it made; every other silo, and every restart, reads that one.
/// </summary>
public static class PostgresCertificateAuthority
{
    /// <summary>The stored CA's certificate and key (PEM); when none is stored yet, <paramref name="create"/>'s, stored first.</summary>
    public static async Task<(string CertificatePem, string KeyPem)> LoadOrCreateAsync(string connectionString, string serviceId, Func<(string CertificatePem, string KeyPem)> create, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (await ReadAsync(connection, serviceId, cancellationToken).ConfigureAwait(false) is { } stored)
            return stored;
        var (certificate, key) = create();
        // Silos starting together may both get here: the first insert wins and both read it back.
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO federated_tls_ca (service_id, certificate_pem, key_pem) VALUES (@service, @certificate, @key) ON CONFLICT (service_id) DO NOTHING", connection))
        {
            insert.Parameters.AddWithValue("service", serviceId);
            insert.Parameters.AddWithValue("certificate", certificate);
            insert.Parameters.AddWithValue("key", key);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        return await ReadAsync(connection, serviceId, cancellationToken).ConfigureAwait(false)
               ?? throw new InvalidOperationException($"the TLS CA of service '{serviceId}' was stored but cannot be read back");
    }

    private static async Task<(string, string)?> ReadAsync(NpgsqlConnection connection, string serviceId, CancellationToken cancellationToken)
    {
        await using var read = new NpgsqlCommand("SELECT certificate_pem, key_pem FROM federated_tls_ca WHERE service_id = @service", connection);
        read.Parameters.AddWithValue("service", serviceId);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? (reader.GetString(0), reader.GetString(1)) : null;
    }
}
