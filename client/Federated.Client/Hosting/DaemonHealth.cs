namespace Federated.Client.Hosting;

/// <summary>Why the daemon gave up, if it did (broken local data or settings): the executable exits with 1.</summary>
public sealed class DaemonHealth
{
    public string? FatalError { get; private set; }

    public void Fail(string reason) => FatalError = reason;
}
