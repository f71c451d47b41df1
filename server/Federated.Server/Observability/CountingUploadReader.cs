using Federated.Protos.V1;
using Grpc.Core;

namespace Federated.Server.Observability;

/// <summary>An upload stream that counts the data bytes it hands on (<see cref="FederatedMetrics.BytesReceived"/>).</summary>
public sealed class CountingUploadReader(IAsyncStreamReader<UploadUpdateRequest> inner, FederatedMetrics metrics) : IAsyncStreamReader<UploadUpdateRequest>
{
    public UploadUpdateRequest Current => inner.Current;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (!await inner.MoveNext(cancellationToken))
            return false;
        if (inner.Current.PartCase == UploadUpdateRequest.PartOneofCase.Data)
            metrics.BytesReceived(inner.Current.Data.Length);
        return true;
    }
}
