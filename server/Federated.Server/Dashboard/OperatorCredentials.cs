using System.Security.Cryptography;
using System.Text;

namespace Federated.Server.Dashboard;

/// <summary>Checks an operator's name and password against the configured ones in constant time.</summary>
public sealed class OperatorCredentials
{
    public const string DefaultUser = "operator";

    private readonly Dictionary<string, byte[]> _digests = new(StringComparer.Ordinal);

    public OperatorCredentials(DashboardOptions options, string? generatedPassword)
    {
        foreach (var (user, password) in options.Users)
        {
            if (!string.IsNullOrEmpty(password))
                _digests[user] = Digest(password);
        }
        var single = string.IsNullOrEmpty(options.Password) ? generatedPassword : options.Password;
        if (!string.IsNullOrEmpty(single))
            _digests[DefaultUser] = Digest(single);
    }

    public bool Check(string? user, string? password)
    {
        var name = string.IsNullOrEmpty(user) ? DefaultUser : user;
        var given = Digest(password ?? "");
        // Compare against something even for unknown names, so timing does not tell which names exist.
        var expected = _digests.TryGetValue(name, out var digest) ? digest : Digest(Guid.NewGuid().ToString());
        return CryptographicOperations.FixedTimeEquals(given, expected) && digest is not null;
    }

    private static byte[] Digest(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));
}
