using System.Security.Cryptography;
using Federated.Core.Adapters;
using Federated.Core.Model;
using Federated.Core.Randomness;
using Federated.Protos.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Federated.Simulations.Bench;

/// <summary>
/// Updates made by hand for clients that do not train (the load bench's fake daemons, the tests that play a
/// client): random factors of a task's shapes, and the upload stream the real daemon sends.
/// </summary>
public static class RandomUpdates
{
    /// <summary>Random LoRA factors with the shapes the task's base model and target modules give (or <paramref name="rank"/> instead of its own).</summary>
    public static LoraAdapter For(TrainingTask task, int? rank = null, ulong seed = 1)
    {
        var r = rank ?? task.Lora.Rank;
        var layout = TargetModules.Layout(ModelCatalog.Describe(task.BaseModel.Reference), task.TargetModules);
        var random = new DeterministicRandom(seed);
        var modules = layout.ModuleNames.Select(m =>
        {
            var (inFeatures, outFeatures) = layout[m];
            return new KeyValuePair<string, LoraFactors>(m, new LoraFactors(Matrix(r, inFeatures, random), Matrix(outFeatures, r, random)));
        });
        return new LoraAdapter(modules.ToList(), task.Lora.Alpha / task.Lora.Rank);
    }

    /// <summary>
    /// Sends header, data in chunks, SHA-256 trailer, as the real daemon's uploader does; a test breaks the
    /// protocol through the options (no header, a stream cut after <paramref name="stopAfterBytes"/>, another
    /// trailer hash). A server that answers before the stream ends gives its status as the reply.
    /// </summary>
    public static async Task<UploadUpdateReply> UploadAsync(
        Coordinator.CoordinatorClient client,
        UpdateHeader? header,
        byte[] payload,
        int chunk = 1000,
        long? stopAfterBytes = null,
        string? trailerHash = null,
        CallOptions options = default)
    {
        using var call = client.UploadUpdate(options);
        var stop = options.CancellationToken;
        try
        {
            if (header is not null)
                await call.RequestStream.WriteAsync(new UploadUpdateRequest { Header = header }, stop);
            var limit = stopAfterBytes ?? payload.Length;
            for (long offset = 0; offset < limit; offset += chunk)
                await call.RequestStream.WriteAsync(new UploadUpdateRequest { Data = ByteString.CopyFrom(payload, (int)offset, (int)Math.Min(chunk, limit - offset)) }, stop);
            if (stopAfterBytes is null)
                await call.RequestStream.WriteAsync(new UploadUpdateRequest { Trailer = new UpdateTrailer { Sha256 = trailerHash ?? Convert.ToHexStringLower(SHA256.HashData(payload)) } }, stop);
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException && !stop.IsCancellationRequested)
        {
            // the server answered before the stream ended: its status, from the response, says why
        }
        return await call.ResponseAsync;
    }

    private static Matrix Matrix(int rows, int columns, DeterministicRandom random)
    {
        var matrix = new Matrix(rows, columns);
        for (int i = 0; i < matrix.Data.Length; i++)
            matrix.Data[i] = (float)(0.01 * random.NextGaussian());
        return matrix;
    }
}
