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
}
