using Federated.Core.Adapters;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Core;

namespace Federated.Server.Tests.Transport;

/// <summary>
/// Bad uploads over real gRPC: each is refused with a precise status and message, and none of them disturbs
/// an update accepted earlier; the round then completes as if nothing had happened.
/// </summary>
public class UploadValidationTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static readonly DeviceProfile OneCore = new() { Kind = DeviceKind.Cpu, CpuCores = 1 };

    [Fact]
    public async Task Bad_uploads_are_refused_and_nothing_accepted_is_lost()
    {
        var coordinator = fixture.Coordinator;
        var spec = new JobSpec { JobId = "bad-input", BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 2, LocalSteps = 5, Scheduler = new SchedulerSpec { Policy = "synchronous" } };
        spec.TargetModules.Add(["q_proj", "v_proj"]);
        spec.Ranks.Add(4);
        await fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
        var a = await coordinator.EnrolAndTakeTask("good-a", device: OneCore);
        var b = await coordinator.EnrolAndTakeTask("good-b", device: OneCore);

        // good-a's update goes in first.
        var goodA = AdapterSerializer.ToBytes(Updates.For(a, seed: 1));
        var accepted = await Updates.Upload(coordinator, Updates.Header(a, "good-a", goodA.Length), goodA);
        Assert.False(accepted.Duplicate);

        var goodB = AdapterSerializer.ToBytes(Updates.For(b, seed: 2));
        var header = Updates.Header(b, "good-b", goodB.Length);

        var status = await Updates.Refused(() => Updates.Upload(coordinator, Updates.Header(b, "ghost", goodB.Length), goodB));
        Assert.Equal(StatusCode.Unauthenticated, status.StatusCode); // a ghost holds no credential
        Assert.Contains("needs the client's credential", status.Detail);

        status = await Updates.Refused(() => Updates.Upload(coordinator, Updates.Header(b, "good-b", goodB.Length, rank: 8), goodB));
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains("update rank 8 does not match rank 4", status.Detail);

        var wrongRank = AdapterSerializer.ToBytes(Updates.For(b, rank: 5, seed: 3));
        status = await Updates.Refused(() => Updates.Upload(coordinator, Updates.Header(b, "good-b", wrongRank.Length), wrongRank));
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains("rank 5 instead of the assigned rank 4", status.Detail);

        var misshapen = Updates.For(b, seed: 5);
        var module = "model.layers.0.self_attn.q_proj";
        var reshaped = new LoraAdapter(misshapen.Modules.Select(m => m.Key == module ? new KeyValuePair<string, LoraFactors>(m.Key, new LoraFactors(new Matrix(4, 65), m.Value.B)) : m).ToList(), misshapen.Scale);
        var misshapenBytes = AdapterSerializer.ToBytes(reshaped);
        status = await Updates.Refused(() => Updates.Upload(coordinator, Updates.Header(b, "good-b", misshapenBytes.Length), misshapenBytes));
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains("tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' has shape [4, 65]; expected [4, 64]", status.Detail);

        var withNaN = Updates.For(b, seed: 4);
        withNaN["model.layers.1.self_attn.v_proj"].B.Data[17] = float.NaN;
        var nanBytes = AdapterSerializer.ToBytes(withNaN);
        status = await Updates.Refused(() => Updates.Upload(coordinator, Updates.Header(b, "good-b", nanBytes.Length), nanBytes));
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains("tensor 'base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight' holds NaN at element 17", status.Detail);

        status = await Updates.Refused(() => Updates.Upload(coordinator, header, goodB, stopAfterBytes: goodB.Length / 2));
        Assert.Equal(StatusCode.DataLoss, status.StatusCode);
        Assert.Contains($"upload ended after {goodB.Length / 2} of {goodB.Length} bytes without a trailer", status.Detail);

        status = await Updates.Refused(() => Updates.Upload(coordinator, header, goodB, trailerHash: new string('0', 64)));
        Assert.Equal(StatusCode.DataLoss, status.StatusCode);
        Assert.Contains("SHA-256", status.Detail);

        // With no header the stream names no client, so the credential goes on the call as a daemon's does.
        var asGoodB = new CallOptions(new Metadata { { "authorization", "Bearer " + TestClients.CredentialOf("good-b") } });
        status = await Updates.Refused(() => Federated.Simulations.Bench.RandomUpdates.UploadAsync(coordinator, null, goodB, options: asGoodB));
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains("first message of an upload must be a header", status.Detail);

        status = await Updates.Refused(() => Raw(header, new UploadUpdateRequest()));
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains("neither header, data nor trailer", status.Detail);

        status = await Updates.Refused(() => Raw(header, new UploadUpdateRequest { Trailer = new UpdateTrailer { Sha256 = "x" } }, new UploadUpdateRequest { Data = Google.Protobuf.ByteString.CopyFrom(1, 2, 3) }));
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains("trailer must be the last message", status.Detail);

        status = await Updates.Refused(() => Updates.Upload(coordinator, Updates.Header(b, "good-b", ServerFixture.MaxUpdateBytes + 1), goodB));
        Assert.Equal(StatusCode.ResourceExhausted, status.StatusCode);

        var madeUp = Updates.Header(b, "good-b", goodB.Length);
        madeUp.TaskId = "made-up";
        status = await Updates.Refused(() => Updates.Upload(coordinator, madeUp, goodB));
        Assert.Equal(StatusCode.FailedPrecondition, status.StatusCode);
        Assert.Contains("no open task made-up", status.Detail);

        // Refused uploads leave nothing behind: no stored payload, no half-written file.
        var adapters = Path.Combine(fixture.Server.DataDirectory, "adapters");
        Assert.Empty(Directory.GetFiles(Path.Combine(adapters, "incoming"), "*", SearchOption.AllDirectories));
        Assert.Single(Directory.GetFiles(Path.Combine(adapters, "sha256"), "*.safetensors", SearchOption.AllDirectories));

        // Nothing so far closed the round or lost good-a's update; sending it again is recognised.
        var job = await fixture.Operator.GetJobAsync(new GetJobRequest { JobId = "bad-input" });
        Assert.Equal(0, job.CompletedRounds);
        Assert.True((await Updates.Upload(coordinator, Updates.Header(a, "good-a", goodA.Length), goodA)).Duplicate);

        // good-b's valid update completes the round with both clients.
        await Updates.Upload(coordinator, header, goodB);
        job = await LocalFederation.WatchAsync(fixture.Operator, "bad-input", null, CancellationToken.None, until: s => s.CompletedRounds >= 1);
        Assert.Equal(JobState.Completed, job.State);
        Assert.Equal(["good-a", "good-b"], job.Rounds[0].Participants.Select(p => p.ClientId));
        Assert.Equal(accepted.Sha256, job.Rounds[0].Participants[0].UpdateSha256);

        status = await Updates.Refused(() => Updates.Upload(coordinator, header, goodB));
        Assert.Equal(StatusCode.FailedPrecondition, status.StatusCode);
        Assert.Contains("round 1 of job 'bad-input' has closed", status.Detail);
    }

    /// <summary>An upload of hand-picked messages after the header.</summary>
    private async Task Raw(UpdateHeader header, params UploadUpdateRequest[] messages)
    {
        using var call = fixture.Coordinator.UploadUpdate();
        try
        {
            await call.RequestStream.WriteAsync(new UploadUpdateRequest { Header = header });
            foreach (var message in messages)
                await call.RequestStream.WriteAsync(message);
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
        }
        await call.ResponseAsync;
    }
}
