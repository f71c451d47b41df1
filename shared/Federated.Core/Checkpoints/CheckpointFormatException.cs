namespace Federated.Core.Checkpoints;

/// <summary>A model checkpoint that cannot be read or does not fit the model; the message names the file and what is wrong.</summary>
public sealed class CheckpointFormatException(string message, Exception? inner = null) : Exception(message, inner);
