namespace Federated.Contracts.Access;

/// <summary>
/// The operator accounts added at run time (one grain, key 0, in the server's grain storage so that every silo sees
/// the same). Only each key's SHA-256 is kept: keys are 256 random bits, so a slow hash would add nothing.
/// </summary>
public interface IOperatorAccountsGrain : IGrainWithIntegerKey
{
    /// <summary>FAILED_PRECONDITION when the name is taken.</summary>
    Task<OperatorAccountInfo> Add(string name, OperatorRole role, byte[] keyHash, string createdBy);

    Task<IReadOnlyList<OperatorAccountInfo>> List();

    /// <summary>NOT_FOUND for an unknown name.</summary>
    Task<OperatorAccountInfo> Remove(string name);

    /// <summary>NOT_FOUND for an unknown name.</summary>
    Task<OperatorAccountInfo> SetRole(string name, OperatorRole role);

    /// <summary>The account's role when the key's hash is its; null otherwise (unknown name or wrong key alike).</summary>
    [AlwaysInterleave]
    Task<OperatorRole?> Verify(string name, byte[] keyHash);

    /// <summary>The account's current role; null once removed.</summary>
    [AlwaysInterleave]
    Task<OperatorRole?> RoleOf(string name);
}

[GenerateSerializer]
[Immutable]
public sealed record OperatorAccountInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] OperatorRole Role,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] string CreatedBy);
