namespace Federated.Client.Training;

/// <summary>A task this client cannot do; it is given back to the server with the reason.</summary>
public sealed class TaskRejectedException(string message, Exception? inner = null) : Exception(message, inner);
