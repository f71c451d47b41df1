using System.Net;
using System.Text.Json;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Federated.Server.Tests.Observability;

/// <summary>/health and grpc.health.v1 report whether the silo and the grain-state storage answer.</summary>
public class HealthTests
{
    [Fact]
    public async Task A_running_server_is_healthy_over_http_and_grpc_health_without_a_token()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None, settings: new Dictionary<string, string?>
        {
            ["Server:ClientToken"] = "client-secret",
            ["Server:OperatorToken"] = "operator-secret",
        });

        var (status, body) = await GetHealth(server);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.Equal(["silo:healthy", "state-files:healthy", "storage:healthy"], Checks(body));

        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Storage_that_cannot_be_written_makes_the_server_unhealthy_naming_the_storage_check()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None);
        var state = Path.Combine(server.DataDirectory, "state");
        Assert.Equal(HttpStatusCode.OK, (await GetHealth(server)).Status);

        // A plain file where the state folder should be: no folder can be made under it, even by root.
        Directory.Delete(state, recursive: true);
        await File.WriteAllTextAsync(state, "not a folder");
        try
        {
            var (status, body) = await GetHealth(server);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("unhealthy", body.GetProperty("status").GetString());
            Assert.Equal(["silo:healthy", "state-files:healthy", "storage:unhealthy"], Checks(body));
            var storage = body.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "storage");
            Assert.Contains("could not be written", storage.GetProperty("description").GetString());

            using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
            var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, reply.Status);
        }
        finally
        {
            File.Delete(state);
            Directory.CreateDirectory(state);
        }
        Assert.Equal(HttpStatusCode.OK, (await GetHealth(server)).Status);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetHealth(LocalServer server)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.HttpAddress) };
        using var response = await http.GetAsync("/health");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, document.RootElement.Clone());
    }

    private static string[] Checks(JsonElement body)
        => [.. body.GetProperty("checks").EnumerateArray().Select(c => $"{c.GetProperty("name").GetString()}:{c.GetProperty("status").GetString()}").Order(StringComparer.Ordinal)];
}
