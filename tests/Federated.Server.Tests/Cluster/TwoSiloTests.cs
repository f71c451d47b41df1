using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Cluster;

/// <summary>Two silos on one PostgreSQL database form one cluster: what one is told, the other answers.</summary>
public class TwoSiloTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_job_created_on_one_silo_is_trained_through_the_other()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var database = await PostgresServer.CreateDatabaseAsync("two-silos");
        // One data folder for both, standing in for the mount all silos share: adapter bytes are still files.
        await using var a = await StartSiloAsync(folder["shared"], database, logger);
        await using var b = await StartSiloAsync(folder["shared"], database, logger);

        using var toA = GrpcChannel.ForAddress(a.GrpcAddress);
        using var toB = GrpcChannel.ForAddress(b.GrpcAddress);
        var spec = new JobSpec { JobId = "shared", BaseModel = "builtin:tiny", Rounds = 2, LocalSteps = 1, MinClientsPerRound = 1 };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        await new Operator.OperatorClient(toA).CreateJobAsync(new CreateJobRequest { Spec = spec });

        var coordinator = new Coordinator.CoordinatorClient(toB);
        var task = await coordinator.EnrolAndTakeTask("edge-1", waitSeconds: 10);
        Assert.Equal("shared", task.JobId);
        var accepted = await coordinator.UploadRandomUpdate(task, "edge-1");
        Assert.False(string.IsNullOrEmpty(accepted.Sha256), accepted.Message);

        var operatorOnA = new Operator.OperatorClient(toA);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JobStatus status;
        do
        {
            status = await operatorOnA.GetJobAsync(new GetJobRequest { JobId = "shared" });
            if (status.CompletedRounds >= 1)
                break;
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        Assert.True(status.CompletedRounds >= 1, $"silo A sees {status.CompletedRounds} rounds after silo B's client sent its update");
    }

    /// <param name="extra">More settings (the dashboard's, say) on top of the cluster's.</param>
    internal static Task<LocalServer> StartSiloAsync(string data, string database, Serilog.ILogger logger, IReadOnlyDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Server:Cluster:Mode"] = "Postgres",
            ["Server:Cluster:ConnectionString"] = database,
            ["Server:Cluster:AdvertisedAddress"] = "127.0.0.1",
            ["Server:GatewayPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Server:SchedulerTickSeconds"] = "1",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            settings[key] = value;
        return LocalServer.StartAsync(data, logger, settings: settings);
    }
}
