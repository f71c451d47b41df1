using System.Security.Cryptography;
using Federated.Client.Hosting;
using Federated.Protos;
using Federated.Protos.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;

namespace Federated.Client.Transport;

/// <summary>
/// One gRPC channel to the coordinator, reused for every call, and the chunked adapter transfers. Given several
/// addresses (silos of one cluster) the channel itself moves to the next when its connection is lost
/// (<see cref="GrpcChannels"/>); the call that was cut is retried by its caller.
/// </summary>
public sealed class CoordinatorConnection : IDisposable
{
    private readonly GrpcChannel _channel;

    public CoordinatorConnection(IOptions<ClientOptions> options, ClientCredentialStore credentials)
    {
        var settings = options.Value;
        // Read per call: the credential appears after the first enrolment. Until then (or against a coordinator
        // that still uses the shared token alone) the shared token, if any, is sent.
        var token = string.IsNullOrEmpty(settings.Token) ? null : settings.Token;
        _channel = GrpcChannels.Create(CoordinatorAddresses.Parse(settings.ServerAddress), () => credentials.Current ?? token, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 8 * 1024 * 1024,
            // When no address answers, the channel waits this long before connecting again (gRPC's default
            // grows to 2 minutes); the daemon's own reconnection waits are the ones to follow.
            InitialReconnectBackoff = TimeSpan.FromSeconds(settings.ReconnectMinSeconds),
            MaxReconnectBackoff = TimeSpan.FromSeconds(settings.ReconnectMaxSeconds),
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(15),
                ConnectTimeout = TimeSpan.FromSeconds(10),
            },
        }, settings.ServerTrust);
        Client = new Coordinator.CoordinatorClient(_channel);
    }

    public Coordinator.CoordinatorClient Client { get; }

    /// <summary>Downloads an adapter into <paramref name="path"/>, checking its size and SHA-256.</summary>
    public async Task DownloadAsync(string clientId, string sha256, string path, CancellationToken cancellationToken)
    {
        using var call = Client.DownloadAdapter(new DownloadAdapterRequest { ClientId = clientId, Sha256 = sha256 }, cancellationToken: cancellationToken);
        await AdapterDownloads.ReceiveAsync(call.ResponseStream, path, sha256, cancellationToken);
    }

    /// <summary>
    /// Uploads the update stored at <paramref name="path"/> as header, chunks of at most
    /// <paramref name="chunkBytes"/> read from the file, and trailer; the payload is never whole in memory.
    /// A write that fails is answered by the server's status when it sent one (a refusal), else by the
    /// transport's failure; <see cref="UpdateUploader"/> decides which to retry.
    /// </summary>
    /// <param name="resume">Ask the server first how many bytes of this update it kept from a cut stream, and send only the rest.</param>
    public async Task<UploadUpdateReply> UploadAsync(UpdateHeader header, string path, int chunkBytes, CancellationToken cancellationToken, bool resume = false)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        var sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
        header.SizeBytes = file.Length;
        header.Sha256 = sha256; // lets the server keep the bytes of a cut stream for the next try
        header.Offset = resume ? await HeldAsync(header, cancellationToken) : 0;
        file.Position = header.Offset;
        using var call = Client.UploadUpdate(cancellationToken: cancellationToken);
        var buffer = new byte[chunkBytes];
        var message = new UploadUpdateRequest { Header = header };
        while (message is not null)
        {
            try
            {
                await call.RequestStream.WriteAsync(message, cancellationToken);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // The server may answer before reading everything (a refusal); its answer, not the broken
                // write, says why. With no answer (the connection broke) this throws the transport's status.
                return await call.ResponseAsync;
            }
            // Reading the local file stays outside the catch: its faults are ours, not the server's.
            var read = message.PartCase == UploadUpdateRequest.PartOneofCase.Trailer ? 0 : await file.ReadAsync(buffer, cancellationToken);
            message = read > 0 ? new UploadUpdateRequest { Data = ByteString.CopyFrom(buffer, 0, read) }
                : message.PartCase == UploadUpdateRequest.PartOneofCase.Trailer ? null
                : new UploadUpdateRequest { Trailer = new UpdateTrailer { Sha256 = sha256 } };
        }
        try
        {
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // As above: the status, if the server gave one, says why.
        }
        return await call.ResponseAsync;
    }

    /// <summary>Where a resumed upload starts: the bytes the server holds of it (0: none, or a server that keeps none).</summary>
    private async Task<long> HeldAsync(UpdateHeader header, CancellationToken cancellationToken)
    {
        try
        {
            var reply = await Client.GetUploadOffsetAsync(UploadOffsetRequest.For(header), cancellationToken: cancellationToken);
            return reply.Offset is > 0 and var held && held < header.SizeBytes ? held : 0;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            return 0; // a coordinator from before resumable uploads
        }
    }

    public void Dispose() => _channel.Dispose();
}
