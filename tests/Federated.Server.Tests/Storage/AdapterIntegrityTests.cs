using Federated.Contracts.Aggregation;
using Federated.Contracts.Errors;
using Federated.Core.Adapters;
using Federated.Protos.V1;
using Federated.Server.Storage;
using Federated.Server.Storage.Blobs;
using Federated.Server.Tests.Infrastructure;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Federated.Server.Tests.Storage;

/// <summary>
/// Every read of a stored adapter is checked against the hash it is stored under: a file whose bytes changed
/// on disk fails with DATA_LOSS naming the hash wherever it is read, and is never used as if it were right.
/// </summary>
public class AdapterIntegrityTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static LoraAdapter Adapter(float value)
    {
        var a = new Matrix(2, 8);
        var b = new Matrix(8, 2);
        Array.Fill(a.Data, value);
        Array.Fill(b.Data, value / 2);
        return new LoraAdapter([new KeyValuePair<string, LoraFactors>("model.layers.0.self_attn.q_proj", new LoraFactors(a, b))], 1.0);
    }

    /// <summary>Flips one byte of the payload's tensor data (or its header) in place.</summary>
    private static void Flip(string path, bool inHeader = false)
    {
        var bytes = File.ReadAllBytes(path);
        var index = inHeader ? 12 : bytes.Length - 3;
        bytes[index] ^= 0x40;
        File.WriteAllBytes(path, bytes);
    }

    private static string FileOf(AdapterStore store, string sha256) => ((FileAdapterBlobs)store.Blobs).PathOf(sha256);

    [Fact]
    public async Task A_changed_payload_fails_every_kind_of_read_with_data_loss_naming_its_hash()
    {
        using var folder = new TemporaryDirectory();
        var store = new AdapterStore(folder.Path);
        var (sha256, _) = await store.WriteAsync(stream => AdapterSerializer.WriteAsync(stream, Adapter(0.25f)));
        Assert.Equal(0.25f, (await store.ReadAdapterAsync(sha256)).Modules.First().Value.A.Data[0]);
        await (await store.OpenLocalAsync(sha256)).DisposeAsync();

        Flip(FileOf(store, sha256));
        await AssertDamaged(sha256, () => store.ReadAdapterAsync(sha256));
        await AssertDamaged(sha256, async () => await (await store.OpenLocalAsync(sha256)).DisposeAsync());
        await AssertDamaged(sha256, async () =>
        {
            await using var stream = await store.OpenReadAsync(sha256);
            await stream.CopyToAsync(Stream.Null);
        });
    }

    [Fact]
    public async Task A_changed_header_is_data_loss_too_not_a_bad_request()
    {
        using var folder = new TemporaryDirectory();
        var store = new AdapterStore(folder.Path);
        var (sha256, _) = await store.WriteAsync(stream => AdapterSerializer.WriteAsync(stream, Adapter(0.5f)));
        Flip(FileOf(store, sha256), inHeader: true);
        await AssertDamaged(sha256, () => store.ReadAdapterAsync(sha256));
    }

    [Fact]
    public async Task Downloads_and_aggregation_of_a_changed_payload_fail_with_data_loss()
    {
        var spec = new JobSpec { JobId = "integrity", BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 2, LocalSteps = 5, Scheduler = new SchedulerSpec { Policy = "synchronous" } };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(4);
        await fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
        var task = await fixture.Coordinator.EnrolAndTakeTask("integrity-a");
        var payload = AdapterSerializer.ToBytes(Updates.For(task, seed: 21));
        var sha256 = (await Updates.Upload(fixture.Coordinator, Updates.Header(task, "integrity-a", payload.Length), payload)).Sha256;

        var store = fixture.Server.App.Services.GetRequiredService<AdapterStore>();
        await Download(sha256); // intact: fine
        Flip(FileOf(store, sha256));

        var status = await Updates.Refused(() => Download(sha256));
        Assert.Equal(StatusCode.DataLoss, status.StatusCode);
        Assert.Contains($"stored adapter {sha256} is damaged", status.Detail);

        var grains = fixture.Server.App.Services.GetRequiredService<IGrainFactory>();
        var error = await Assert.ThrowsAsync<FederatedException>(() => grains.GetGrain<IAggregatorGrain>("integrity-direct")
            .Aggregate(1, "stacking", [new AggregationInput("integrity-a", sha256, 1)], [4], 1.0));
        Assert.Equal(FederatedError.DataLoss, error.Error);
        Assert.Contains(sha256, error.Message);
    }

    private async Task Download(string sha256)
    {
        using var call = fixture.Coordinator.DownloadAdapter(new DownloadAdapterRequest { ClientId = "integrity-a", Sha256 = sha256 });
        await foreach (var _ in call.ResponseStream.ReadAllAsync())
        {
        }
    }

    private static async Task AssertDamaged(string sha256, Func<Task> read)
    {
        var error = await Assert.ThrowsAsync<FederatedException>(read);
        Assert.Equal(FederatedError.DataLoss, error.Error);
        Assert.StartsWith($"stored adapter {sha256} is damaged: its bytes hash to ", error.Message);
    }
}
