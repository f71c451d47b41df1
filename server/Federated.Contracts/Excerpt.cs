namespace Federated.Contracts;

/// <summary>
/// How a refusal quotes what it refuses: a short, printable prefix, so an error detail or a log line never
/// carries a client's 100 KB string or its control characters (a forged log line).
/// </summary>
public static class Excerpt
{
    public const int DefaultLength = 64;

    public static string Of(string? value, int maxLength = DefaultLength)
    {
        if (value is null)
            return "";
        var cut = value.Length > maxLength;
        var shown = cut ? value[..maxLength] : value;
        if (shown.Any(char.IsControl))
            shown = new string([.. shown.Select(c => char.IsControl(c) ? '?' : c)]);
        return cut ? $"{shown}… ({value.Length} characters)" : shown;
    }
}
