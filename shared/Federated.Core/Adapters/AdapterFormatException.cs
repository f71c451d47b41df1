namespace Federated.Core.Adapters;

/// <summary>An adapter that does not fit what is expected (names, shapes, ranks, values); the message names the tensor.</summary>
public sealed class AdapterFormatException(string message) : Exception(message);
