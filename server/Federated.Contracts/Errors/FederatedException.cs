namespace Federated.Contracts.Errors;

/// <summary>A refusal a person can act on; grains throw it and the gRPC layer turns it into a status.</summary>
[GenerateSerializer]
public sealed class FederatedException : Exception
{
    public FederatedException(FederatedError error, string message)
        : base(Excerpt.Detail(message))
    {
        Error = error;
    }

    public FederatedException()
        : this(FederatedError.InvalidArgument, "invalid request")
    {
    }

    public FederatedException(string message)
        : this(FederatedError.InvalidArgument, message)
    {
    }

    public FederatedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    [Id(0)]
    public FederatedError Error { get; private set; }

    public static FederatedException NotFound(string message) => new(FederatedError.NotFound, message);

    public static FederatedException Invalid(string message) => new(FederatedError.InvalidArgument, message);

    public static FederatedException Precondition(string message) => new(FederatedError.FailedPrecondition, message);

    public static FederatedException Denied(string message) => new(FederatedError.PermissionDenied, message);

    public static FederatedException Unauthenticated(string message) => new(FederatedError.Unauthenticated, message);
}
