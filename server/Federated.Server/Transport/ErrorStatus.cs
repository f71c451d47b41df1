using System.Collections.Frozen;
using Federated.Contracts.Errors;
using Grpc.Core;

namespace Federated.Server.Transport;

/// <summary>
/// The one table from a kind of refusal to the status each door answers with: gRPC (ErrorInterceptor) and
/// HTTP (the dashboard's JSON endpoints). HTTP has no "data loss" or "over a limit" of its own that the pages
/// act on, so those are a plain 400 there, as any other bad request.
/// </summary>
public static class ErrorStatus
{
    private static readonly FrozenDictionary<FederatedError, (StatusCode Grpc, int Http)> Table = new Dictionary<FederatedError, (StatusCode, int)>
    {
        [FederatedError.InvalidArgument] = (StatusCode.InvalidArgument, StatusCodes.Status400BadRequest),
        [FederatedError.NotFound] = (StatusCode.NotFound, StatusCodes.Status404NotFound),
        [FederatedError.FailedPrecondition] = (StatusCode.FailedPrecondition, StatusCodes.Status409Conflict),
        [FederatedError.AlreadyExists] = (StatusCode.AlreadyExists, StatusCodes.Status409Conflict),
        [FederatedError.ResourceExhausted] = (StatusCode.ResourceExhausted, StatusCodes.Status400BadRequest),
        [FederatedError.DataLoss] = (StatusCode.DataLoss, StatusCodes.Status400BadRequest),
        [FederatedError.PermissionDenied] = (StatusCode.PermissionDenied, StatusCodes.Status403Forbidden),
        [FederatedError.Unauthenticated] = (StatusCode.Unauthenticated, StatusCodes.Status401Unauthorized),
    }.ToFrozenDictionary();

    public static StatusCode Grpc(FederatedError error) => Entry(error).Grpc;

    public static int Http(FederatedError error) => Entry(error).Http;

    private static (StatusCode Grpc, int Http) Entry(FederatedError error)
        => Table.TryGetValue(error, out var entry) ? entry : throw new ArgumentOutOfRangeException(nameof(error), error, "no status for this kind of refusal; add it to ErrorStatus");
}
