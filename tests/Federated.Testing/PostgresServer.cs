using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Federated.Testing;

/// <summary>
/// The PostgreSQL server the cluster tests use, one per test process: the one <c>FEDERATED_TEST_POSTGRES</c> names
/// (a connection string whose user may create databases; ./test.sh starts one and sets it), else a private one
/// this process starts in a temporary folder through tests/scripts/postgres.sh and stops when it exits. Each test
/// takes a fresh database from <see cref="CreateDatabaseAsync"/>, so tests never see each other's tables.
/// </summary>
/// <remarks>No PostgreSQL on the machine fails the test with what to install; it is never skipped.</remarks>
public static class PostgresServer
{
    public const string Variable = "FEDERATED_TEST_POSTGRES";

    private static readonly Lazy<string> Admin = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);
    private static int _databases;

    /// <summary>A connection string to the server's maintenance database, as a user who may create databases.</summary>
    public static string AdminConnectionString => Admin.Value;

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    public static async Task<string> CreateDatabaseAsync(string purpose)
    {
        var name = $"t_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..40].ToLowerInvariant();
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        // Every test has a database, so a pool of its own; idle connections are closed within seconds rather than
        // Npgsql's 5 minutes, so the pools of finished tests do not use up the server's connections.
        return new NpgsqlConnectionStringBuilder(AdminConnectionString)
        {
            Database = name,
            ApplicationName = purpose,
            ConnectionIdleLifetime = 5,
            ConnectionPruningInterval = 1,
        }.ConnectionString;
    }

    private static string Start()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given)
            return given;

        var script = Path.Combine(TestModels.RepositoryRoot, "tests", "scripts", "postgres.sh");
        var folder = Path.Combine(Path.GetTempPath(), "federated-postgres", $"{Environment.ProcessId}-{Guid.NewGuid():N}"[..20]);
        var port = FreePort();
        Run(script, $"start \"{folder}\" {port}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            Run(script, $"stop \"{folder}\"", throwOnFailure: false);
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Username = "postgres", Database = "postgres" }.ConnectionString;
    }

    private static void Run(string script, string arguments, bool throwOnFailure = true)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", $"\"{script}\" {arguments}") { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 && throwOnFailure)
            throw new InvalidOperationException(
                $"the cluster tests need a PostgreSQL server: set {Variable} to a connection string, or install Debian's postgresql package (./test.sh does); tests/scripts/postgres.sh said: {error.Trim()}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
