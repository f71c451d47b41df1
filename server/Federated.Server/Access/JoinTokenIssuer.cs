using System.Security.Cryptography;
using Federated.Contracts.Access;
using Federated.Protos;

namespace Federated.Server.Access;

/// <summary>
/// Makes join tokens for the Admin gRPC service and the dashboard alike: the secret is made here, shown once, and
/// only its hash goes to <see cref="IJoinTokensGrain"/>.
/// </summary>
public sealed class JoinTokenIssuer(IGrainFactory grains)
{
    private IJoinTokensGrain Tokens => grains.GetGrain<IJoinTokensGrain>(0);

    /// <returns>The token as stored and the text a daemon presents (shown once).</returns>
    public async Task<(JoinTokenInfo Info, string Token)> CreateAsync(int uses, TimeSpan lifetime, string label, string createdBy)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = PrefixedSecret.Create(PrefixedSecret.JoinTokenPrefix, id);
        var info = await Tokens.Create(id, secret.Hash(), uses, lifetime, label, createdBy);
        return (info, secret.ToString());
    }

    public Task<IReadOnlyList<JoinTokenInfo>> ListAsync() => Tokens.List();

    public Task<JoinTokenInfo> RevokeAsync(string id) => Tokens.Revoke(id);
}
