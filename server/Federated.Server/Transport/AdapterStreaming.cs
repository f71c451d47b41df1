using Federated.Protos.V1;
using Federated.Server.Observability;
using Federated.Server.Storage;
using Google.Protobuf;
using Grpc.Core;

namespace Federated.Server.Transport;

/// <summary>Streams a stored adapter as one header message and then data chunks.</summary>
public static class AdapterStreaming
{
    public static async Task SendAsync(AdapterStore store, string sha256, IServerStreamWriter<AdapterChunk> responseStream, int chunkBytes, FederatedMetrics metrics, CancellationToken cancellationToken)
    {
        await using var stream = await store.OpenReadAsync(sha256, cancellationToken);
        await responseStream.WriteAsync(new AdapterChunk
        {
            Header = new AdapterHeader { Sha256 = sha256, SizeBytes = stream.Length, Encoding = "safetensors" },
        }, cancellationToken);
        var buffer = new byte[chunkBytes];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await responseStream.WriteAsync(new AdapterChunk { Data = ByteString.CopyFrom(buffer, 0, read) }, cancellationToken);
            metrics.BytesSent(read);
        }
    }
}
