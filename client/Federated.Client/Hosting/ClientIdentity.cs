using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Federated.Client.Hosting;

/// <summary>The client's id: configured, or made up on first start and kept in the work directory.</summary>
public static partial class ClientIdentity
{
    public static string Resolve(ClientOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.ClientId))
        {
            if (!Valid().IsMatch(options.ClientId))
                throw new InvalidOperationException($"Client:ClientId '{options.ClientId}' is not valid: use 1 to 64 letters, digits, '-', '_' or '.'");
            return options.ClientId;
        }
        Directory.CreateDirectory(options.WorkDirectory);
        var path = Path.Combine(options.WorkDirectory, "client-id");
        if (File.Exists(path))
        {
            var stored = File.ReadAllText(path).Trim();
            if (Valid().IsMatch(stored))
                return stored;
        }
        var host = Unsafe().Replace(Environment.MachineName.ToLowerInvariant(), "-");
        var id = $"{(host.Length > 40 ? host[..40] : host)}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}".TrimStart('.');
        File.WriteAllText(path, id);
        return id;
    }

    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex Valid();

    [GeneratedRegex("[^a-z0-9_-]")]
    private static partial Regex Unsafe();
}
