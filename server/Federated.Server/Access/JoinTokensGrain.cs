using System.Security.Cryptography;
using Federated.Contracts.Access;
using Federated.Contracts.Errors;
using Federated.Contracts;
using Federated.Server.Hosting;

namespace Federated.Server.Access;

/// <summary>Persisted state of <see cref="JoinTokensGrain"/>.</summary>
public sealed class JoinTokensState
{
    public Dictionary<string, JoinTokenRecord> Tokens { get; set; } = new(StringComparer.Ordinal);
}

public sealed class JoinTokenRecord
{
    public byte[] SecretHash { get; set; } = [];

    public string Label { get; set; } = "";

    public int Uses { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public bool Revoked { get; set; }

    public string CreatedBy { get; set; } = "";

    /// <summary>The clients enrolled with it; its count is the uses spent.</summary>
    public List<string> Clients { get; set; } = [];
}

/// <summary>
/// The join tokens: one activation in the cluster, calls in turn, so a token's last use cannot be spent twice by two
/// daemons enrolling at once on different silos.
/// </summary>
[GrainType("join-tokens")]
public sealed partial class JoinTokensGrain(
    [PersistentState("join-tokens", StorageNames.State)] IPersistentState<JoinTokensState> state,
    TimeProvider time,
    ILogger<JoinTokensGrain> logger) : Grain, IJoinTokensGrain
{
    /// <summary>Expired and revoked tokens are kept this long for the record, then forgotten.</summary>
    public static readonly TimeSpan KeptAfterEnd = TimeSpan.FromDays(30);

    public const int MaxUses = 1_000_000;
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(366);

    public async Task<JoinTokenInfo> Create(string id, byte[] secretHash, int uses, TimeSpan lifetime, string label, string createdBy)
    {
        if (uses < 1 || uses > MaxUses)
            throw FederatedException.Invalid($"uses: a join token admits 1 to {MaxUses:N0} enrolments, got {uses}");
        if (lifetime < TimeSpan.FromSeconds(1) || lifetime > MaxLifetime)
            throw FederatedException.Invalid($"expires: a join token lives 1 second to {MaxLifetime.TotalDays:0} days, got {lifetime}");
        if (label.Length > 200)
            throw FederatedException.Invalid($"label: at most 200 characters, got {label.Length}");
        if (secretHash.Length != 32)
            throw FederatedException.Invalid("the token's hash must be a SHA-256 (32 bytes)");
        Identifiers.Require(id, "id");
        if (state.State.Tokens.ContainsKey(id))
            throw FederatedException.Precondition($"join token '{id}' exists already");
        var now = time.GetUtcNow();
        Forget(now);
        var record = new JoinTokenRecord { SecretHash = secretHash, Label = label, Uses = uses, CreatedAt = now, ExpiresAt = now + lifetime, CreatedBy = createdBy };
        state.State.Tokens[id] = record;
        await state.WriteStateAsync();
        LogCreated(logger, id, uses, record.ExpiresAt, label, createdBy);
        return Info(id, record);
    }

    public Task<IReadOnlyList<JoinTokenInfo>> List()
        => Task.FromResult<IReadOnlyList<JoinTokenInfo>>([.. state.State.Tokens.OrderBy(t => t.Value.CreatedAt).Select(t => Info(t.Key, t.Value))]);

    public async Task<JoinTokenInfo> Revoke(string id)
    {
        if (!state.State.Tokens.TryGetValue(id, out var record))
            throw FederatedException.NotFound($"there is no join token '{id}'");
        if (!record.Revoked)
        {
            record.Revoked = true;
            await state.WriteStateAsync();
            LogRevoked(logger, id);
        }
        return Info(id, record);
    }

    public async Task<JoinTokenRedemption> Redeem(string id, byte[] secretHash, string clientId)
    {
        // One answer for an unknown id and a wrong secret: a caller learns nothing about which ids exist.
        if (!state.State.Tokens.TryGetValue(id, out var record) || !CryptographicOperations.FixedTimeEquals(record.SecretHash, secretHash))
            return new JoinTokenRedemption("the join token is not one this server issued (check it was copied whole)");
        if (record.Revoked)
            return new JoinTokenRedemption($"join token '{id}' was revoked by an operator");
        if (time.GetUtcNow() >= record.ExpiresAt)
            return new JoinTokenRedemption($"join token '{id}' expired at {record.ExpiresAt:u}");
        if (record.Clients.Contains(clientId, StringComparer.Ordinal))
            return new JoinTokenRedemption(null, Repeat: true);
        if (record.Clients.Count >= record.Uses)
            return new JoinTokenRedemption($"join token '{id}' is used up ({record.Uses} of {record.Uses} enrolments)");
        record.Clients.Add(clientId);
        await state.WriteStateAsync();
        return new JoinTokenRedemption(null);
    }

    public async Task GiveBack(string id, string clientId)
    {
        if (state.State.Tokens.TryGetValue(id, out var record) && record.Clients.LastIndexOf(clientId) is var at and >= 0)
        {
            record.Clients.RemoveAt(at);
            await state.WriteStateAsync();
        }
    }

    private void Forget(DateTimeOffset now)
    {
        foreach (var (id, _) in state.State.Tokens.Where(t => t.Value.ExpiresAt + KeptAfterEnd < now).ToList())
            state.State.Tokens.Remove(id);
    }

    private static JoinTokenInfo Info(string id, JoinTokenRecord r)
        => new(id, r.Label, r.Uses, r.Clients.Count, r.CreatedAt, r.ExpiresAt, r.Revoked, r.CreatedBy, [.. r.Clients]);

    [LoggerMessage(Level = LogLevel.Information, Message = "Join token {TokenId} created by {CreatedBy}: {Uses} enrolments until {ExpiresAt:u} ({Label})")]
    private static partial void LogCreated(ILogger logger, string tokenId, int uses, DateTimeOffset expiresAt, string label, string createdBy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Join token {TokenId} revoked")]
    private static partial void LogRevoked(ILogger logger, string tokenId);
}
