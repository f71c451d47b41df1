namespace Federated.Contracts.Access;

/// <summary>
/// The operators' join tokens (one grain, key 0): each admits a number of first enrolments until it expires or is
/// revoked. Only each token's SHA-256 is kept.
/// </summary>
public interface IJoinTokensGrain : IGrainWithIntegerKey
{
    /// <summary>Stores a new token's hash; INVALID_ARGUMENT for uses under 1 or a lifetime under a second.</summary>
    Task<JoinTokenInfo> Create(string id, byte[] secretHash, int uses, TimeSpan lifetime, string label, string createdBy);

    Task<IReadOnlyList<JoinTokenInfo>> List();

    /// <summary>NOT_FOUND for an unknown id; revoking twice is no error.</summary>
    Task<JoinTokenInfo> Revoke(string id);

    /// <summary>
    /// Spends one use of the token for <paramref name="clientId"/>, or says why it cannot (unknown, wrong secret,
    /// expired, used up, revoked). A refusal spends nothing; nor does a repeat for a client the token already
    /// enrolled (its first reply may have been lost), which the client grain then allows or not.
    /// </summary>
    Task<JoinTokenRedemption> Redeem(string id, byte[] secretHash, string clientId);

    /// <summary>Gives back a use spent for <paramref name="clientId"/> whose enrolment then failed.</summary>
    Task GiveBack(string id, string clientId);
}

[GenerateSerializer]
[Immutable]
public sealed record JoinTokenInfo(
    [property: Id(0)] string Id,
    [property: Id(1)] string Label,
    [property: Id(2)] int Uses,
    [property: Id(3)] int Used,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset ExpiresAt,
    [property: Id(6)] bool Revoked,
    [property: Id(7)] string CreatedBy,
    [property: Id(8)] IReadOnlyList<string> Clients);

/// <summary>Null <see cref="Refusal"/>: a use was spent, or <see cref="Repeat"/>: one was spent for this client before.</summary>
[GenerateSerializer]
[Immutable]
public sealed record JoinTokenRedemption([property: Id(0)] string? Refusal, [property: Id(1)] bool Repeat = false);
