namespace Federated.Client.Hosting;

/// <summary>
/// How the daemon is doing: why it gave up, if it did (broken local data or settings, a coordinator that refused this client: the executable exits with 78),
/// and how often it found the server unreachable (an embedding process or a test can await the n-th time).
/// </summary>
public sealed class DaemonHealth
{
    private readonly Lock _lock = new();
    private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];

    /// <summary>
    /// The executable's exit status after <see cref="FatalError"/> (EX_CONFIG of sysexits.h): starting again cannot
    /// help, so the systemd unit does not restart on it (RestartPreventExitStatus=78).
    /// </summary>
    public const int ExitCodeNeedsOperator = 78;

    public string? FatalError { get; private set; }

    /// <summary>Times an attempt to reach the server failed with a transient error since the daemon started.</summary>
    public int Unreachable { get; private set; }

    /// <summary>Why the coordinator was last refused as untrusted (a CA other than the configured one), or null.</summary>
    public string? Untrusted { get; private set; }

    public void Fail(string reason) => FatalError = reason;

    /// <summary>An attempt that reached a coordinator this daemon must not trust; counts as unreachable too.</summary>
    public void RecordUntrusted(string reason)
    {
        Untrusted = reason;
        RecordUnreachable();
    }

    public void RecordUnreachable()
    {
        lock (_lock)
        {
            Unreachable++;
            foreach (var waiter in _waiters.Where(w => w.Count <= Unreachable).ToList())
            {
                waiter.Reached.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    /// <summary>Completes once the server has been found unreachable <paramref name="count"/> times.</summary>
    public Task UnreachableAtLeast(int count)
    {
        lock (_lock)
        {
            if (Unreachable >= count)
                return Task.CompletedTask;
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, waiter));
            return waiter.Task;
        }
    }
}
