namespace Federated.Core.Data;

/// <summary>A malformed dataset; the message names the file and line.</summary>
/// <param name="location">"file line N" when the fault is in a record: a reader that must not show the
/// record's content (the server, reading a file an operator named) reports only this.</param>
public sealed class DataFormatException(string message, string? location = null) : Exception(message)
{
    public string? Location { get; } = location;
}
