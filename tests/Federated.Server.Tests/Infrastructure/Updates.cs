using System.Security.Cryptography;
using Federated.Core.Adapters;
using Federated.Core.Model;
using Federated.Core.Randomness;
using Federated.Protos.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Federated.Server.Tests.Infrastructure;

/// <summary>Hand-made updates and raw upload streams, for driving the coordinator with good and bad input.</summary>
public static class Updates
{
    /// <summary>A random update with the shapes a task expects (or <paramref name="rank"/> instead of its own).</summary>
    public static LoraAdapter For(TrainingTask task, int? rank = null, ulong seed = 1)
    {
        var r = rank ?? task.Lora.Rank;
        var layout = TargetModules.Layout(ModelCatalog.Describe(task.BaseModel.Reference), task.TargetModules);
        var random = new DeterministicRandom(seed);
        var modules = layout.ModuleNames.Select(m =>
        {
            var (inFeatures, outFeatures) = layout[m];
            return new KeyValuePair<string, LoraFactors>(m, new LoraFactors(Random(r, inFeatures, random), Random(outFeatures, r, random)));
        });
        return new LoraAdapter(modules.ToList(), task.Lora.Alpha / task.Lora.Rank);
    }

    public static UpdateHeader Header(TrainingTask task, string clientId, long size, int? rank = null) => new()
    {
        ClientId = clientId,
        JobId = task.JobId,
        TaskId = task.TaskId,
        Round = task.Round,
        Rank = rank ?? task.Lora.Rank,
        Alpha = task.Lora.Alpha,
        NumSamples = 100,
        SizeBytes = size,
        Stats = new TrainingStats { Steps = 1, SecondsPerStep = 0.1 },
    };

    /// <summary>Sends header, data in chunks, trailer; the options break the protocol in chosen ways.</summary>
    public static async Task<UploadUpdateReply> Upload(
        Coordinator.CoordinatorClient client,
        UpdateHeader? header,
        byte[] payload,
        int chunk = 1000,
        long? stopAfterBytes = null,
        string? trailerHash = null)
    {
        using var call = client.UploadUpdate();
        try
        {
            if (header is not null)
                await call.RequestStream.WriteAsync(new UploadUpdateRequest { Header = header });
            var limit = stopAfterBytes ?? payload.Length;
            for (int offset = 0; offset < limit; offset += chunk)
                await call.RequestStream.WriteAsync(new UploadUpdateRequest { Data = ByteString.CopyFrom(payload, offset, (int)Math.Min(chunk, limit - offset)) });
            if (stopAfterBytes is null)
                await call.RequestStream.WriteAsync(new UploadUpdateRequest { Trailer = new UpdateTrailer { Sha256 = trailerHash ?? Convert.ToHexStringLower(SHA256.HashData(payload)) } });
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            return await call.ResponseAsync; // the server answered early: its status says why
        }
        return await call.ResponseAsync;
    }

    /// <summary>Runs a call that must fail and returns its status.</summary>
    public static async Task<Status> Refused(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        return error.Status;
    }

    private static Matrix Random(int rows, int columns, DeterministicRandom random)
    {
        var matrix = new Matrix(rows, columns);
        for (int i = 0; i < matrix.Data.Length; i++)
            matrix.Data[i] = (float)(0.01 * random.NextGaussian());
        return matrix;
    }
}
