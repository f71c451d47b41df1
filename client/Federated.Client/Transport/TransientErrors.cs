using System.Net.Sockets;
using Grpc.Core;

namespace Federated.Client.Transport;

/// <summary>Which gRPC failures mean "the server is away for now, try again" rather than "you are wrong".</summary>
public static class TransientErrors
{
    public static bool IsTransient(RpcException e) => e.StatusCode is StatusCode.Unavailable
        or StatusCode.DeadlineExceeded
        or StatusCode.Internal
        or StatusCode.Unknown
        or StatusCode.Aborted
        or StatusCode.Cancelled;

    /// <summary>
    /// Whether the coordinator refused this client itself (UNAUTHENTICATED: a credential unknown or revoked, a join
    /// token missing, expired, used up or revoked; PERMISSION_DENIED: a call naming another client). Waiting does
    /// not mend these: an operator must act, so the daemon stops rather than retry, and keeps what it has on disk.
    /// </summary>
    public static bool IsRefusalOfClient(RpcException e) => e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied;

    /// <summary>
    /// Whether an upload failed on the way rather than being answered: a transient status, DATA_LOSS (the
    /// server got a cut or garbled stream and kept nothing), or an exception of the connection itself
    /// (HttpIOException and other IO, a refused socket) that never became a status. A missing local file is not.
    /// </summary>
    public static bool IsTransportFailure(Exception e) => e switch
    {
        RpcException r => IsTransient(r) || r.StatusCode == StatusCode.DataLoss,
        FileNotFoundException or DirectoryNotFoundException => false,
        IOException or HttpRequestException or SocketException or ObjectDisposedException => true,
        _ => false,
    };
}
