namespace Federated.Core.Data;

/// <summary>A malformed dataset; the message names the file and line.</summary>
public sealed class DataFormatException(string message) : Exception(message);
