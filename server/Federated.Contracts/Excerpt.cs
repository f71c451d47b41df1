namespace Federated.Contracts;

/// <summary>
/// How a refusal quotes what it refuses: a short, printable prefix, so an error detail or a log line never
/// carries a client's 100 KB string or its control characters (a forged log line).
/// </summary>
public static class Excerpt
{
    public const int DefaultLength = 64;

    /// <summary>The longest an error's whole message may be (gRPC carries it in a header, which peers cap at 64 KB).</summary>
    public const int MaxDetailLength = 4096;

    /// <summary>
    /// A refusal's whole message, cut at <see cref="MaxDetailLength"/>: the backstop for a message that quoted an
    /// input without <see cref="Of"/>, so that no input, however large, makes the reply itself unreadable.
    /// </summary>
    public static string Detail(string message)
        => message.Length <= MaxDetailLength ? message : $"{message[..MaxDetailLength]}… ({message.Length} characters)";

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
