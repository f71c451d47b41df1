namespace Federated.Protos;

/// <summary>
/// How the coordinator tells a daemon which kind of refusal it got, where the advice to its operator differs: a
/// removed client's id can never enrol again, so the way back is a new id, not just a new join token.
/// </summary>
public static class ClientRefusal
{
    /// <summary>The trailer naming the kind of refusal.</summary>
    public const string Trailer = "federated-refusal";

    /// <summary>The trailer's value when an operator removed the client.</summary>
    public const string Removed = "removed";

    /// <summary>The words the server's refusal of a removed client's credential ends with.</summary>
    public const string RemovedText = "was removed by an operator; its credential is revoked";

    public static bool IsRemoval(Grpc.Core.RpcException e) => e.Trailers.GetValue(Trailer) == Removed;
}
