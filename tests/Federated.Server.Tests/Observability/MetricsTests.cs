using System.Globalization;
using System.Net;
using Federated.Core.Adapters;
using Federated.Protos.V1;
using Federated.Server.Hosting;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federated.Server.Tests.Observability;

/// <summary>The Prometheus endpoint shows a round's counters once the round is in, and the clients working on a job.</summary>
[Collection(MetricsCollection.Name)]
public class MetricsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task After_a_round_the_metrics_endpoint_shows_the_round_the_accepted_update_the_refusal_and_the_active_client()
    {
        const string jobId = "metrics-round";
        var spec = new JobSpec { JobId = jobId, BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1, ClientsPerRound = 1, LocalSteps = 1, TaskTimeoutSeconds = 600, Scheduler = new SchedulerSpec { Policy = "synchronous" } };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        await fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
        var task = await fixture.Coordinator.EnrolAndTakeTask("metered");
        Assert.Equal(jobId, task.JobId);
        using var http = new HttpClient { BaseAddress = new Uri(fixture.Server.HttpAddress) };
        Assert.Equal(1, Value(await http.GetStringAsync("/metrics"), "federated_clients_active", $"job=\"{jobId}\""));

        var wrongRank = AdapterSerializer.ToBytes(Updates.For(task, rank: 3));
        var refused = await Updates.Refused(() => Updates.Upload(fixture.Coordinator, Updates.Header(task, "metered", wrongRank.Length, rank: 3), wrongRank));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        var update = AdapterSerializer.ToBytes(Updates.For(task));
        await Updates.Upload(fixture.Coordinator, Updates.Header(task, "metered", update.Length), update);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await LocalFederation.WatchAsync(fixture.Operator, jobId, onStatus: null, timeout.Token, until: s => s.CompletedRounds >= 1);

        using var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(1, Value(text, "federated_rounds_aggregated_total", $"job=\"{jobId}\""));
        Assert.Equal(1, Value(text, "federated_updates_accepted_total", $"job=\"{jobId}\""));
        Assert.Equal(1, Value(text, "federated_aggregation_duration_seconds_count", $"job=\"{jobId}\""));
        Assert.Equal(0, Value(text, "federated_clients_active", $"job=\"{jobId}\"")); // the job is complete
        Assert.True(Value(text, "federated_updates_refused_total", "reason=\"invalid_argument\"") >= 1, "the wrong-rank upload is counted as refused");
        Assert.True(Value(text, "federated_bytes_received_bytes_total", null) >= update.Length, "the accepted update's bytes are counted as received");
        Assert.True(Value(text, "federated_poll_wait_duration_seconds_count", "outcome=\"task\"") >= 1, "the poll that got the task is timed");
        Assert.Contains(text.Split('\n'), line => line.StartsWith("orleans_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_metrics_endpoint_is_not_served_on_the_grpc_port()
    {
        using var http = new HttpClient(new SocketsHttpHandler()) { BaseAddress = new Uri(fixture.Server.GrpcAddress), DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_can_be_turned_off_and_a_bad_path_stops_the_server_naming_the_field()
    {
        using var folder = new TemporaryDirectory();
        await using (var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None, settings: new Dictionary<string, string?> { ["Server:Metrics:Enabled"] = "false" }))
        {
            using var http = new HttpClient { BaseAddress = new Uri(server.HttpAddress) };
            using var response = await http.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        var bad = Assert.Throws<OptionsValidationException>(() => FederatedServerHost.Build([], new Dictionary<string, string?> { ["Server:Metrics:Path"] = "metrics" }, Serilog.Core.Logger.None));
        Assert.Contains("Server:Metrics:Path", bad.Message);
        var taken = Assert.Throws<OptionsValidationException>(() => FederatedServerHost.Build([], new Dictionary<string, string?> { ["Server:Metrics:Path"] = "/health" }, Serilog.Core.Logger.None));
        Assert.Contains("Server:Metrics:Path: '/health' is taken", taken.Message);
    }

    /// <summary>The sample of <paramref name="name"/> whose labels contain <paramref name="label"/> (any, when null).</summary>
    private static double Value(string text, string name, string? label)
    {
        var lines = text.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal)).ToList();
        var line = lines.FirstOrDefault(l => label is null || l.Contains(label, StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"no sample of {name} with {label ?? "any labels"}; samples of it: {string.Join(" | ", lines)}");
        var afterName = line.Contains('}') ? line[(line.LastIndexOf('}') + 1)..] : line[name.Length..];
        var value = afterName.Trim().Split(' ')[0];
        return double.Parse(value, CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// The metrics tests run alone. Orleans makes its meter through each host's IMeterFactory, all named
/// "Microsoft.Orleans"; OpenTelemetry merges same-named instruments of every host in the process into one stream, and
/// when another test's server is disposed its meter's end marks that shared stream finished, so the next scrape here
/// has no Orleans lines (seen once in CI). A deployed server is one host per process and never sees this.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "Metrics";
}
