using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Federated.Protos;

/// <summary>
/// A secret with a public part, written "&lt;prefix&gt;.&lt;id&gt;.&lt;secret&gt;": a join token
/// (<see cref="JoinTokenPrefix"/>, id = the token's id) or a client's credential (<see cref="ClientCredentialPrefix"/>,
/// id = the client id). The id lets the server find the record without a search; only the secret's SHA-256 is kept,
/// so a stolen state store grants nothing. 256 random bits make a slow hash pointless.
/// </summary>
public sealed record PrefixedSecret(string Prefix, string Id, string Secret)
{
    public const string JoinTokenPrefix = "fjt1";
    public const string ClientCredentialPrefix = "fcc1";

    public override string ToString() => $"{Prefix}.{Id}.{Secret}";

    /// <summary>SHA-256 of the secret part, as stored.</summary>
    public byte[] Hash() => HashOf(Secret);

    public static byte[] HashOf(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>A fresh secret for <paramref name="id"/>.</summary>
    public static PrefixedSecret Create(string prefix, string id)
        => new(prefix, id, Base64Url(RandomNumberGenerator.GetBytes(32)));

    /// <summary>Parses "prefix.id.secret" with the expected prefix; the id may itself contain dots (client ids can).</summary>
    public static bool TryParse(string? text, string prefix, [NotNullWhen(true)] out PrefixedSecret? secret)
    {
        secret = null;
        if (string.IsNullOrEmpty(text) || text.Length > 512 || !text.StartsWith(prefix + ".", StringComparison.Ordinal))
            return false;
        var rest = text[(prefix.Length + 1)..];
        var last = rest.LastIndexOf('.');
        if (last <= 0 || last == rest.Length - 1)
            return false;
        secret = new PrefixedSecret(prefix, rest[..last], rest[(last + 1)..]);
        return true;
    }

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
