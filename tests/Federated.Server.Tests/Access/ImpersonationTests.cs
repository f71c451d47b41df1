using Federated.Contracts.Clients;
using Federated.Core.Adapters;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Federated.Server.Tests.Access;

/// <summary>
/// The server takes a client's identity from its credential, never from a message: the probes of the issue (polling,
/// uploading and re-enrolling as another client) are each refused, and the real client's work is untouched.
/// </summary>
public class ImpersonationTests
{
    [Fact]
    public async Task A_second_clients_credential_cannot_poll_heartbeat_upload_abandon_report_or_enrol_as_the_first()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await TlsLoopbackServer.StartAsync(folder);
        using var channel = server.Channel();
        var spec = new JobSpec { JobId = "guarded", BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1, ClientsPerRound = 1, LocalSteps = 1, TaskTimeoutSeconds = 600, Scheduler = new SchedulerSpec { Policy = "synchronous" } };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        await new Operator.OperatorClient(channel).CreateJobAsync(new CreateJobRequest { Spec = spec });
        var victim = AsClient.With(channel, await AsClient.EnrolNew(channel, "victim"));
        var task = (await victim.PollTaskAsync(new PollTaskRequest { ClientId = "victim", WaitSeconds = 5 })).Task;
        Assert.NotNull(task);
        var mallory = AsClient.With(channel, await AsClient.EnrolNew(channel, "mallory"));

        async Task Denied(Func<Task> call, string because)
        {
            var status = await Updates.Refused(call);
            Assert.True(status.StatusCode == StatusCode.PermissionDenied, $"{because}: {status}");
        }
        await Denied(() => mallory.PollTaskAsync(new PollTaskRequest { ClientId = "victim" }).ResponseAsync, "poll as another");
        await Denied(() => mallory.HeartbeatAsync(new HeartbeatRequest { ClientId = "victim", TaskId = task.TaskId }).ResponseAsync, "heartbeat as another");
        await Denied(() => mallory.HeartbeatAsync(new HeartbeatRequest { ClientId = "mallory", TaskId = task.TaskId }).ResponseAsync, "heartbeat naming another's task");
        await Denied(() => mallory.AbandonTaskAsync(new AbandonTaskRequest { ClientId = "victim", JobId = "guarded", TaskId = task.TaskId, Round = 1 }).ResponseAsync, "abandon as another");
        await Denied(() => mallory.AbandonTaskAsync(new AbandonTaskRequest { ClientId = "mallory", JobId = "guarded", TaskId = task.TaskId, Round = 1 }).ResponseAsync, "abandon another's task");
        await Denied(() => mallory.ReportMetricsAsync(new ReportMetricsRequest { ClientId = "victim", JobId = "guarded", TaskId = task.TaskId, Round = 1 }).ResponseAsync, "metrics as another");
        await Denied(() => mallory.GetCatchUpAsync(new GetCatchUpRequest { ClientId = "victim", JobId = "guarded", Rank = 2 }).ResponseAsync, "catch-up as another");
        await Denied(async () =>
        {
            using var call = mallory.DownloadAdapter(new DownloadAdapterRequest { ClientId = "victim", Sha256 = new string('0', 64) });
            await call.ResponseStream.MoveNext(CancellationToken.None);
        }, "download as another");
        await Denied(() => mallory.EnrolAsync(new EnrolRequest { ClientId = "victim", Device = new DeviceProfile { Kind = DeviceKind.Cuda } }).ResponseAsync, "re-enrol another");
        var zeros = AdapterSerializer.ToBytes(Updates.For(task, seed: 0));
        await Denied(() => Updates.Upload(mallory, Updates.Header(task, "victim", zeros.Length), zeros), "upload as another");
        await Denied(() => Updates.Upload(mallory, Updates.Header(task, "mallory", zeros.Length), zeros), "upload for another's task");

        // No credential, a forged one, or the enrolment of a taken id: refused before anything is done.
        var anonymous = AsClient.With(channel, null);
        Assert.Equal(StatusCode.Unauthenticated, (await Updates.Refused(() => anonymous.PollTaskAsync(new PollTaskRequest { ClientId = "victim" }).ResponseAsync)).StatusCode);
        var forged = AsClient.With(channel, Federated.Protos.PrefixedSecret.Create(Federated.Protos.PrefixedSecret.ClientCredentialPrefix, "victim").ToString());
        var forgery = await Updates.Refused(() => forged.PollTaskAsync(new PollTaskRequest { ClientId = "victim" }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, forgery.StatusCode);
        Assert.Contains("not its current one", forgery.Detail);
        var taken = await Updates.Refused(() => anonymous.EnrolAsync(new EnrolRequest { ClientId = "victim" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, taken.StatusCode);

        // The victim's profile and task are as they were; its own update is the one accepted.
        var grains = server.App.Services.GetRequiredService<IGrainFactory>();
        Assert.NotEqual("cuda", (await grains.GetGrain<IClientGrain>("victim").GetSnapshot()).Profile.Device);
        var update = AdapterSerializer.ToBytes(Updates.For(task, seed: 7));
        var accepted = await Updates.Upload(victim, Updates.Header(task, "victim", update.Length), update);
        Assert.False(accepted.Duplicate);
        await victim.EnrolAsync(new EnrolRequest { ClientId = "victim" }); // its own credential re-enrols it
    }

    [Fact]
    public async Task A_removed_clients_credential_is_refused_on_its_next_call()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await TlsLoopbackServer.StartAsync(folder);
        using var channel = server.Channel();
        var client = AsClient.With(channel, await AsClient.EnrolNew(channel, "leaver"));
        await client.HeartbeatAsync(new HeartbeatRequest { ClientId = "leaver" });
        await server.App.Services.GetRequiredService<IGrainFactory>().GetGrain<IClientGrain>("leaver").SetAdmission(ClientAdmission.Removed);

        var refused = await Assert.ThrowsAsync<RpcException>(() => client.HeartbeatAsync(new HeartbeatRequest { ClientId = "leaver" }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains("removed by an operator; its credential is revoked, and its id may not enrol again", refused.Status.Detail);
        Assert.True(Federated.Protos.ClientRefusal.IsRemoval(refused), "the refusal tells the daemon it was removed");
        Assert.Equal(StatusCode.Unauthenticated, (await Updates.Refused(() => client.PollTaskAsync(new PollTaskRequest { ClientId = "leaver" }).ResponseAsync)).StatusCode);

        // Removal holds: not even a fresh join token enrols the id again (a new id does).
        var token = (await new Admin.AdminClient(channel).CreateJoinTokenAsync(new CreateJoinTokenRequest { Uses = 2, ExpiresInSeconds = 600 })).Token;
        var again = await Updates.Refused(() => AsClient.EnrolNew(channel, "leaver", token));
        Assert.Equal(StatusCode.FailedPrecondition, again.StatusCode);
        Assert.Contains("was removed by an operator and may not enrol again", again.Detail);
        await AsClient.EnrolNew(channel, "leaver-2", token);
    }
}
