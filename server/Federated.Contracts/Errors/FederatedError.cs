namespace Federated.Contracts.Errors;

/// <summary>Kinds of refusal, each mapped to one gRPC status code at the edge.</summary>
public enum FederatedError
{
    /// <summary>The request is malformed or names something that cannot be (gRPC INVALID_ARGUMENT).</summary>
    InvalidArgument,

    /// <summary>An unknown client, job, task or adapter (NOT_FOUND).</summary>
    NotFound,

    /// <summary>Valid, but not now: the round moved on, the task expired, the job ended (FAILED_PRECONDITION).</summary>
    FailedPrecondition,

    /// <summary>Something by that name exists already (ALREADY_EXISTS).</summary>
    AlreadyExists,

    /// <summary>Over a configured size limit (RESOURCE_EXHAUSTED).</summary>
    ResourceExhausted,

    /// <summary>Bytes were lost or altered on the way: a truncated stream, a hash mismatch (DATA_LOSS).</summary>
    DataLoss,

    /// <summary>The caller is known but may not do this: act as another client, or an operator's role is too low (PERMISSION_DENIED).</summary>
    PermissionDenied,

    /// <summary>The caller's credential is missing, unknown or revoked, or its join token cannot be used (UNAUTHENTICATED).</summary>
    Unauthenticated,
}
