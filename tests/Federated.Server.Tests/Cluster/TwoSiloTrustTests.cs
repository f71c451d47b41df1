using Federated.Protos.V1;
using Federated.Server.Tests.Access;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Cluster;

/// <summary>Join tokens and credentials are the cluster's, not a silo's: made on one, spent and revoked through the other.</summary>
public class TwoSiloTrustTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_token_made_on_one_silo_enrols_through_the_other_and_a_removal_on_one_is_refused_at_once_on_the_other()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var database = await PostgresServer.CreateDatabaseAsync("two-silos-trust");
        var closed = new Dictionary<string, string?> { ["Server:Enrolment:Open"] = "false" };
        await using var a = await TwoSiloTests.StartSiloAsync(folder["a"], database, logger, extra: closed);
        await using var b = await TwoSiloTests.StartSiloAsync(folder["b"], database, logger, extra: closed);
        using var toA = GrpcChannel.ForAddress(a.GrpcAddress);
        using var toB = GrpcChannel.ForAddress(b.GrpcAddress);

        var token = (await new Admin.AdminClient(toA).CreateJoinTokenAsync(new CreateJoinTokenRequest { Uses = 1, ExpiresInSeconds = 600 })).Token;
        var credential = await AsClient.EnrolNew(toB, "roamer", token);
        Assert.Contains("used up", (await Updates.Refused(() => AsClient.EnrolNew(toA, "second", token))).Detail);
        await AsClient.With(toA, credential).HeartbeatAsync(new HeartbeatRequest { ClientId = "roamer" });

        var grainsOfA = a.App.Services.GetService(typeof(IGrainFactory)) as IGrainFactory;
        await grainsOfA!.GetGrain<Federated.Contracts.Clients.IClientGrain>("roamer").SetAdmission(Federated.Contracts.Clients.ClientAdmission.Removed);
        var refused = await Updates.Refused(() => AsClient.With(toB, credential).HeartbeatAsync(new HeartbeatRequest { ClientId = "roamer" }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains("revoked", refused.Detail);
    }
}
