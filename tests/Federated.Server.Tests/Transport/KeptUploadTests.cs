using System.Security.Cryptography;
using Federated.Client.Hosting;
using Federated.Client.Transport;
using Federated.Core.Adapters;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Transport;

/// <summary>
/// A trained update survives the network and restarts: kept on disk, resumed after a connection cut
/// mid-stream and a server restart (only the bytes the server lacks are sent), accepted exactly once; one
/// left by a stopped daemon is sent on start.
/// </summary>
public class KeptUploadTests(ITestOutputHelper output)
{
    private static JobSpec Spec(string jobId)
    {
        var spec = new JobSpec { JobId = jobId, BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1, LocalSteps = 5, Scheduler = new SchedulerSpec { Policy = "synchronous" } };
        spec.Ranks.Add(4);
        return spec;
    }

    private static UpdateUploader Uploader(string address, string workDirectory, string clientId, out CoordinatorConnection connection)
    {
        var options = Options.Create(new ClientOptions { ServerAddress = address, WorkDirectory = workDirectory, ReconnectMinSeconds = 0.05, ReconnectMaxSeconds = 0.2 });
        var credential = new ClientCredentialStore(options);
        credential.Save(TestClients.CredentialOf(clientId));
        connection = new CoordinatorConnection(options, credential);
        return new UpdateUploader(connection, options, TimeProvider.System, NullLogger<UpdateUploader>.Instance);
    }

    [Fact]
    public async Task An_upload_cut_mid_stream_is_sent_again_after_the_server_restarts_and_accepted_once()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var grpc = FreePorts.Next();
        var first = await LocalServer.StartAsync(folder["server"], logger, grpcPort: grpc, cancellationToken: timeout.Token);
        TrainingTask task;
        using (var channel = GrpcChannel.ForAddress(first.GrpcAddress))
        {
            await new Operator.OperatorClient(channel).CreateJobAsync(new CreateJobRequest { Spec = Spec("kept") });
            task = await TestClients.Coordinator(channel).EnrolAndTakeTask("keeper");
        }
        var payload = AdapterSerializer.ToBytes(Updates.For(task, seed: 31));
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(payload));

        await using var proxy = new CuttingProxy(grpc);
        var uploader = Uploader(proxy.Address, folder["work"], "keeper", out var connection);
        using var _ = connection;
        var pending = await uploader.SaveAsync(Updates.Header(task, "keeper", payload.Length), s => s.WriteAsync(payload).AsTask(), timeout.Token);
        Assert.True(File.Exists(pending.PayloadPath));

        proxy.StayDownAfterCut = true;
        proxy.CutAfterBytes = payload.Length / 2;
        var sending = uploader.SendAsync(pending, 1024, timeout.Token);
        await proxy.Cut.Task.WaitAsync(timeout.Token);
        Assert.False(sending.IsCompleted); // cut, and being retried (every retry is cut at once)

        await first.DisposeAsync();
        var stored = Path.Combine(folder["server"], "adapters", "sha256", sha256[..2], sha256 + ".safetensors");
        Assert.False(File.Exists(stored)); // the cut stream left nothing on the server
        Assert.True(File.Exists(pending.PayloadPath)); // but the client still has it

        await using var second = await LocalServer.StartAsync(folder["server"], logger, grpcPort: grpc, cancellationToken: timeout.Token);
        proxy.CutAfterBytes = null;
        var reply = await sending.WaitAsync(timeout.Token);
        Assert.Equal(sha256, reply.Sha256);
        Assert.False(reply.Duplicate);
        // At most the bytes that passed before the cut were kept (how many reached the handler before the reset is up
        // to Kestrel, possibly none); ResumableUploadTests pins the resume itself down, byte for byte, across a restart.
        Assert.InRange(reply.ResumedFrom, 0, payload.Length / 2);
        Assert.Empty(uploader.Pending());
        Assert.Empty(Directory.GetFiles(folder["work/updates"]));
        if (Directory.Exists(folder["server/uploads-partial"]))
            Assert.Empty(Directory.GetFiles(folder["server/uploads-partial"], "*", SearchOption.AllDirectories)); // and dropped once accepted

        using var after = GrpcChannel.ForAddress(second.GrpcAddress);
        var job = await LocalFederation.WatchAsync(new Operator.OperatorClient(after), "kept", null, timeout.Token);
        Assert.Equal(JobState.Completed, job.State);
        var participant = Assert.Single(job.Rounds.Single().Participants);
        Assert.Equal(("keeper", sha256), (participant.ClientId, participant.UpdateSha256));
    }

    [Fact]
    public async Task An_upload_cut_when_its_address_goes_away_is_sent_through_the_next_address_and_accepted()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var server = await LocalServer.StartAsync(folder["server"], logger, cancellationToken: timeout.Token);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        await new Operator.OperatorClient(channel).CreateJobAsync(new CreateJobRequest { Spec = Spec("moved") });
        var task = await TestClients.Coordinator(channel).EnrolAndTakeTask("mover");
        var payload = AdapterSerializer.ToBytes(Updates.For(task, seed: 51));
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(payload));

        // The first address is a silo that dies halfway through the upload (the stream is reset, which the
        // client sees as an HttpIOException under the call) and then refuses connections; the second is up.
        var proxy = new CuttingProxy(server.GrpcPort) { CutAfterBytes = payload.Length / 2 };
        var uploader = Uploader($"{proxy.Address},{server.GrpcAddress}", folder["work"], "mover", out var connection);
        using var _ = connection;
        var pending = await uploader.SaveAsync(Updates.Header(task, "mover", payload.Length), s => s.WriteAsync(payload).AsTask(), timeout.Token);
        var sending = uploader.SendAsync(pending, 1024, timeout.Token);
        await proxy.Cut.Task.WaitAsync(timeout.Token);
        await proxy.DisposeAsync();

        var reply = await sending.WaitAsync(timeout.Token);
        Assert.Equal(sha256, reply.Sha256);
        Assert.False(reply.Duplicate);
        Assert.Empty(uploader.Pending());
        var job = await LocalFederation.WatchAsync(new Operator.OperatorClient(channel), "moved", null, timeout.Token);
        Assert.Equal(JobState.Completed, job.State);
        Assert.Equal(("mover", sha256), (Assert.Single(job.Rounds.Single().Participants).ClientId, job.Rounds.Single().Participants.Single().UpdateSha256));
    }

    [Fact]
    public async Task Updates_left_by_a_stopped_daemon_are_sent_on_start_and_refused_ones_are_dropped()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var server = await LocalServer.StartAsync(folder["server"], logger, cancellationToken: timeout.Token);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var operatorClient = new Operator.OperatorClient(channel);
        await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = Spec("resumed") });
        var coordinator = TestClients.Coordinator(channel);
        var task = await coordinator.EnrolAndTakeTask("sleeper");
        var refusedSpec = Spec("refused");
        refusedSpec.MinClientsPerRound = 2;
        await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = refusedSpec });
        var payload = AdapterSerializer.ToBytes(Updates.For(task, seed: 41));

        // The daemon that trained it stopped before sending it; one write was cut short (no header).
        var before = Uploader(server.GrpcAddress, folder["work"], "sleeper", out var oldConnection);
        oldConnection.Dispose();
        await before.SaveAsync(Updates.Header(task, "sleeper", payload.Length), s => s.WriteAsync(payload).AsTask(), timeout.Token);
        var wrong = Updates.Header(task, "sleeper", payload.Length, rank: 8);
        wrong.TaskId = "refused.t99.sleeper";
        wrong.JobId = "refused";
        await before.SaveAsync(wrong, s => s.WriteAsync(payload).AsTask(), timeout.Token);
        File.WriteAllBytes(Path.Combine(folder["work"], "updates", "half.safetensors"), payload[..100]);

        var restarted = Uploader(server.GrpcAddress, folder["work"], "sleeper", out var connection);
        using var _ = connection;
        Assert.Equal(2, restarted.Pending().Count);
        Assert.False(File.Exists(Path.Combine(folder["work"], "updates", "half.safetensors")));
        await restarted.ResumeAsync(1024, timeout.Token);
        Assert.Empty(restarted.Pending());
        Assert.Empty(Directory.GetFiles(folder["work/updates"]));

        var job = await LocalFederation.WatchAsync(operatorClient, "resumed", null, timeout.Token);
        Assert.Equal("sleeper", Assert.Single(job.Rounds.Single().Participants).ClientId);
        var refused = await operatorClient.GetJobAsync(new GetJobRequest { JobId = "refused" });
        Assert.Equal(0, refused.CompletedRounds);
    }
}
