using System.Net.Sockets;
using Grpc.Core;

namespace Federated.Client.Transport;

/// <summary>Which gRPC failures mean "the server is away for now, try again" rather than "you are wrong".</summary>
public static class TransientErrors
{
    /// <summary>The trailer with which the coordinator's rate limits say how long to wait (milliseconds).</summary>
    public const string RetryAfterTrailer = "retry-after-ms";

    public static bool IsTransient(RpcException e) => e.StatusCode is StatusCode.Unavailable
        or StatusCode.DeadlineExceeded
        or StatusCode.Internal
        or StatusCode.Unknown
        or StatusCode.Aborted
        or StatusCode.Cancelled
        || RetryAfter(e) is not null;

    /// <summary>
    /// How long a RESOURCE_EXHAUSTED refusal for rate asks the client to wait (its retry-after-ms trailer); null for
    /// anything else, including RESOURCE_EXHAUSTED for an update over the size limit, which waiting does not mend.
    /// </summary>
    public static TimeSpan? RetryAfter(RpcException e)
        => e.StatusCode == StatusCode.ResourceExhausted
           && e.Trailers.GetValue(RetryAfterTrailer) is { } text
           && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms)
            ? TimeSpan.FromMilliseconds(Math.Min(ms, 3_600_000))
            : null;

    /// <summary>The wait before trying again: the backoff's, or longer when the server asked for longer.</summary>
    public static TimeSpan Wait(Exception e, TimeSpan backoff)
        => e is RpcException r && RetryAfter(r) is { } asked && asked > backoff ? asked : backoff;

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
