namespace Federated.Core.Tensors;

/// <summary>A safetensors payload that does not follow the format; the message says what is wrong.</summary>
public sealed class SafeTensorsFormatException(string message) : Exception(message);
