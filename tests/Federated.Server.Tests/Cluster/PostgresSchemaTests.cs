using Federated.Server.Cluster;
using Npgsql;

namespace Federated.Server.Tests.Cluster;

/// <summary>The schema's versions are applied once, under a lock, and a newer database is refused.</summary>
public class PostgresSchemaTests
{
    [Fact]
    public async Task A_fresh_database_gets_every_version_and_a_second_apply_is_a_no_op()
    {
        var database = await PostgresServer.CreateDatabaseAsync("schema");
        var first = await PostgresSchema.ApplyAsync(database);
        Assert.Equal(PostgresSchema.Versions.Select(v => v.Number), first.Select(v => v.Number));

        var tables = await TablesAsync(database);
        var second = await PostgresSchema.ApplyAsync(database);
        Assert.Empty(second);
        Assert.Equal(tables, await TablesAsync(database));
        Assert.Equal(PostgresSchema.Newest, await VersionAsync(database));
    }

    [Fact]
    public async Task Silos_starting_together_apply_each_version_once()
    {
        var database = await PostgresServer.CreateDatabaseAsync("schema-race");
        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => PostgresSchema.ApplyAsync(database))));
        Assert.Equal(PostgresSchema.Versions.Count, runs.Sum(r => r.Count));
        Assert.Equal(PostgresSchema.Newest, await VersionAsync(database));
    }

    [Fact]
    public async Task A_database_with_a_newer_schema_is_refused_naming_both_versions()
    {
        var database = await PostgresServer.CreateDatabaseAsync("schema-newer");
        await PostgresSchema.ApplyAsync(database);
        await ExecuteAsync(database, $"INSERT INTO federated_schema (version, name) VALUES ({PostgresSchema.Newest + 1}, 'from-the-future')");

        var refused = await Assert.ThrowsAsync<ClusterStartupException>(() => PostgresSchema.ApplyAsync(database));
        Assert.Contains("Server:Cluster:ConnectionString", refused.Message);
        Assert.Contains($"schema version {PostgresSchema.Newest + 1} (from-the-future)", refused.Message);
        Assert.Contains($"newer than this server's newest, {PostgresSchema.Newest}", refused.Message);
    }

    [Fact]
    public async Task An_unreachable_database_names_the_setting_and_hides_the_password()
    {
        var nowhere = new NpgsqlConnectionStringBuilder(PostgresServer.AdminConnectionString) { Port = 1, Password = "s3cret", Timeout = 3 }.ConnectionString;
        var refused = await Assert.ThrowsAsync<ClusterStartupException>(() => PostgresSchema.ApplyAsync(nowhere));
        Assert.StartsWith("Server:Cluster:ConnectionString: cannot reach the database at Host=127.0.0.1;Port=1;", refused.Message);
        Assert.DoesNotContain("s3cret", refused.Message);
    }

    [Fact]
    public void Broken_cluster_settings_are_named()
    {
        Assert.Contains(new ClusterSettings { Mode = ClusterMode.Postgres }.Problems(), p => p.StartsWith("Server:Cluster:ConnectionString: Mode is Postgres", StringComparison.Ordinal));
        Assert.Contains(new ClusterSettings { Mode = ClusterMode.Postgres, ConnectionString = "Host=;Database=x" }.Problems(), p => p == "Server:Cluster:ConnectionString: it names no Host");
        Assert.Contains(new ClusterSettings { Mode = ClusterMode.Postgres, ConnectionString = "Hots=x" }.Problems(), p => p.StartsWith("Server:Cluster:ConnectionString: it does not parse", StringComparison.Ordinal));
        Assert.Contains(new ClusterSettings { AdvertisedAddress = "silo-a" }.Problems(), p => p == "Server:Cluster:AdvertisedAddress: 'silo-a' is not an IP address");
        Assert.Contains(new ClusterSettings { ClusterId = "a b" }.Problems(), p => p.StartsWith("Server:Cluster:ClusterId", StringComparison.Ordinal));
        Assert.Empty(new ClusterSettings().Problems());
    }

    private static async Task<List<string>> TablesAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var tables = new List<string>();
        while (await reader.ReadAsync())
            tables.Add(reader.GetString(0));
        return tables;
    }

    private static async Task<int> VersionAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        return (await PostgresSchema.CurrentAsync(connection)).Version;
    }

    private static async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
