using System.Diagnostics.CodeAnalysis;

namespace Federated.Protos;

/// <summary>
/// The coordinator's gRPC address, or several separated by commas ("http://a:50051,http://b:50051") when it runs
/// as several silos: each entry is scheme://host[:port], all with the same scheme (one channel is either TLS or not).
/// </summary>
public sealed class CoordinatorAddresses
{
    private CoordinatorAddresses(IReadOnlyList<Uri> addresses) => Addresses = addresses;

    public IReadOnlyList<Uri> Addresses { get; }

    public bool Secure => Addresses[0].Scheme == Uri.UriSchemeHttps;

    /// <summary>The list as given, normalised: "http://a:1,http://b:2".</summary>
    public override string ToString() => string.Join(",", Addresses.Select(a => a.GetLeftPart(UriPartial.Authority)));

    /// <exception cref="FormatException">The list is empty, has an empty or malformed entry, repeats one, or mixes http and https.</exception>
    public static CoordinatorAddresses Parse(string? text)
        => TryParse(text, out var addresses, out var error) ? addresses : throw new FormatException(error);

    public static bool TryParse(string? text, [NotNullWhen(true)] out CoordinatorAddresses? addresses, [NotNullWhen(false)] out string? error)
    {
        addresses = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "no coordinator address given: expected http://host:port, or several separated by commas";
            return false;
        }
        var entries = text.Split(',', StringSplitOptions.TrimEntries);
        var parsed = new List<Uri>();
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = entries[i];
            var where = entries.Length > 1 ? $" (entry {i + 1} of '{text}')" : "";
            if (entry.Length == 0)
            {
                error = $"empty coordinator address{where}: separate addresses by single commas, with none at either end";
                return false;
            }
            if (!Uri.TryCreate(entry, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
            {
                error = $"'{entry}'{where} is not an http:// or https:// address such as http://coordinator:50051";
                return false;
            }
            if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
            {
                error = $"'{entry}'{where} has more than scheme://host:port (a path, query, fragment or user), which a gRPC address cannot use";
                return false;
            }
            if (parsed.FirstOrDefault(p => p.Scheme != uri.Scheme) is { } other)
            {
                error = $"the coordinator addresses mix http and https ('{other.GetLeftPart(UriPartial.Authority)}' and '{entry}'): one channel is either TLS or plain, so use one scheme for all";
                return false;
            }
            if (parsed.Any(p => Uri.Compare(p, uri, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0))
            {
                error = $"'{entry}'{where} is listed twice";
                return false;
            }
            parsed.Add(uri);
        }
        addresses = new CoordinatorAddresses(parsed);
        error = null;
        return true;
    }
}
