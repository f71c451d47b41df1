using System.Security.Cryptography;
using Federated.Core.Adapters;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federated.Server.Tests.Transport;

/// <summary>
/// The protocol of a resumed upload: a stream cut on the way leaves its bytes with the server (across a restart),
/// GetUploadOffset says how many, and a stream from that offset completes the very update; a wrong offset, other
/// bytes or another caller get nowhere.
/// </summary>
public class ResumableUploadTests
{
    private static JobSpec Spec()
    {
        var spec = new JobSpec { JobId = "resumable", BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1, LocalSteps = 1, TaskTimeoutSeconds = 600, Scheduler = new SchedulerSpec { Policy = "synchronous" } };
        spec.Ranks.Add(4);
        return spec;
    }

    private static UploadOffsetRequest Ask(UpdateHeader header) => UploadOffsetRequest.For(header);

    [Fact]
    public async Task A_cut_upload_is_completed_from_the_offset_the_server_kept_across_a_restart()
    {
        using var folder = new TemporaryDirectory();
        var grpc = FreePorts.Next();
        var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None, grpcPort: grpc);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        await new Operator.OperatorClient(channel).CreateJobAsync(new CreateJobRequest { Spec = Spec() });
        var client = TestClients.Coordinator(channel);
        var task = await client.EnrolAndTakeTask("resumer");
        var payload = AdapterSerializer.ToBytes(Updates.For(task, seed: 5));
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(payload));
        var header = Updates.Header(task, "resumer", payload.Length);
        header.Sha256 = sha256;

        // Nothing held yet; then a stream that stops at 3,000 bytes without its trailer.
        Assert.Equal(0, (await client.GetUploadOffsetAsync(Ask(header))).Offset);
        var cut = await Updates.Refused(() => Updates.Upload(client, header, payload, chunk: 1000, stopAfterBytes: 3000));
        Assert.Equal(StatusCode.DataLoss, cut.StatusCode);
        Assert.Contains("its first 3000 bytes are kept: resume at that offset (GetUploadOffset)", cut.Detail);
        Assert.Equal(3000, (await client.GetUploadOffsetAsync(Ask(header))).Offset);

        // Kept on disk: a restarted server still holds them.
        await server.DisposeAsync();
        await using var again = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None, grpcPort: grpc);
        Assert.Equal(3000, (await client.GetUploadOffsetAsync(Ask(header))).Offset);

        // Another client may not ask about this task; an offset the server does not hold is refused, and the part stays.
        var other = TestClients.Coordinator(channel);
        await other.EnrolAsync(new EnrolRequest { ClientId = "nosy" });
        var nosy = Ask(header);
        nosy.ClientId = "nosy";
        Assert.Equal(StatusCode.PermissionDenied, (await Updates.Refused(() => TestClients.Coordinator(channel).GetUploadOffsetAsync(nosy).ResponseAsync)).StatusCode);
        var wrongOffset = header.Clone();
        wrongOffset.Offset = 2000;
        var refused = await Updates.Refused(() => Updates.Upload(client, wrongOffset, payload[2000..], trailerHash: sha256));
        Assert.Equal(StatusCode.DataLoss, refused.StatusCode);
        Assert.Contains("this server holds 3000 bytes of update", refused.Detail);
        Assert.Equal(3000, (await client.GetUploadOffsetAsync(Ask(header))).Offset);

        // The rest, from 3,000: the whole update is checked and stored, and the part is gone.
        var resumed = header.Clone();
        resumed.Offset = 3000;
        var reply = await Updates.Upload(client, resumed, payload[3000..], trailerHash: sha256);
        Assert.Equal(sha256, reply.Sha256);
        Assert.Equal(3000, reply.ResumedFrom);
        Assert.False(reply.Duplicate);
        Assert.Empty(Directory.GetFiles(folder["server/uploads-partial"], "*", SearchOption.AllDirectories));
        var job = await LocalFederation.WatchAsync(new Operator.OperatorClient(channel), "resumable", null, CancellationToken.None);
        Assert.Equal(("resumer", sha256), (job.Rounds.Single().Participants.Single().ClientId, job.Rounds.Single().Participants.Single().UpdateSha256));
    }

    [Fact]
    public async Task A_resumed_stream_whose_bytes_are_not_the_named_update_is_refused_and_its_part_dropped()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        await new Operator.OperatorClient(channel).CreateJobAsync(new CreateJobRequest { Spec = Spec() });
        var client = TestClients.Coordinator(channel);
        var task = await client.EnrolAndTakeTask("mixer");
        var payload = AdapterSerializer.ToBytes(Updates.For(task, seed: 6));
        var otherPayload = AdapterSerializer.ToBytes(Updates.For(task, seed: 7));
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(payload));
        var header = Updates.Header(task, "mixer", payload.Length);
        header.Sha256 = sha256;
        await Updates.Refused(() => Updates.Upload(client, header, payload, stopAfterBytes: 4000));
        Assert.Equal(4000, (await client.GetUploadOffsetAsync(Ask(header))).Offset);

        // The same length from another update: every check passes but the hash, which must be the header's.
        var resumed = header.Clone();
        resumed.Offset = 4000;
        var mixed = payload[..4000].Concat(otherPayload[4000..]).ToArray();
        var refused = await Updates.Refused(() => Updates.Upload(client, resumed, otherPayload[4000..], trailerHash: Convert.ToHexStringLower(SHA256.HashData(mixed))));
        Assert.Equal(StatusCode.DataLoss, refused.StatusCode);
        Assert.Contains($"but its header says {sha256}", refused.Detail);
        Assert.Equal(0, (await client.GetUploadOffsetAsync(Ask(header))).Offset); // nothing to resume: send it whole

        var whole = await Updates.Upload(client, header, payload);
        Assert.Equal((sha256, 0L), (whole.Sha256, whole.ResumedFrom));
    }

    [Theory]
    [InlineData(-1, true, "offset -1 is outside the update's")]
    [InlineData(10, false, "a resumed upload (offset > 0) must name the whole payload's sha256")]
    [InlineData(0, true, "is not a SHA-256")]
    public async Task A_bad_offset_or_hash_in_the_header_is_refused_naming_it(long offset, bool withHash, string expected)
    {
        using var folder = new TemporaryDirectory();
        await using var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        await new Operator.OperatorClient(channel).CreateJobAsync(new CreateJobRequest { Spec = Spec() });
        var client = TestClients.Coordinator(channel);
        var task = await client.EnrolAndTakeTask("careless");
        var payload = AdapterSerializer.ToBytes(Updates.For(task, seed: 8));
        var header = Updates.Header(task, "careless", payload.Length);
        header.Offset = offset;
        if (withHash)
            header.Sha256 = expected.Contains("SHA-256", StringComparison.Ordinal) ? "not-a-hash" : Convert.ToHexStringLower(SHA256.HashData(payload));
        var refused = await Updates.Refused(() => Updates.Upload(client, header, payload));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains(expected, refused.Detail);
    }
}
