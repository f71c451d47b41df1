using System.Security.Cryptography;
using Federated.Protos.V1;
using Grpc.Core;

namespace Federated.Protos;

/// <summary>Receives a streamed adapter (header, then data chunks) into a file, checking its size and SHA-256.</summary>
public static class AdapterDownloads
{
    /// <param name="sha256">The expected hash; null takes the one the header announces.</param>
    /// <returns>The payload's SHA-256.</returns>
    public static async Task<string> ReceiveAsync(IAsyncStreamReader<AdapterChunk> chunks, string path, string? sha256, CancellationToken cancellationToken)
    {
        var temporary = path + ".part";
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long expected = -1, received = 0;
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            await foreach (var chunk in chunks.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (chunk.PartCase == AdapterChunk.PartOneofCase.Header)
                {
                    expected = chunk.Header.SizeBytes;
                    sha256 ??= chunk.Header.Sha256;
                    continue;
                }
                hash.AppendData(chunk.Data.Span);
                await file.WriteAsync(chunk.Data.Memory, cancellationToken).ConfigureAwait(false);
                received += chunk.Data.Length;
            }
        }
        var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (received != expected || actual != sha256)
        {
            File.Delete(temporary);
            throw new RpcException(new Status(StatusCode.DataLoss, $"download of adapter {sha256} gave {received} of {expected} bytes with SHA-256 {actual}"));
        }
        File.Move(temporary, path, overwrite: true);
        return actual;
    }
}
