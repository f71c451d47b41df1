using System.Collections.Concurrent;

namespace Federated.Server.Dashboard;

/// <summary>
/// Refuses sign-in from an address that gave <see cref="DashboardOptions.SignInAttempts"/> wrong passwords within
/// the last <see cref="DashboardOptions.SignInWindowSeconds"/> (a sliding window per address), until the oldest
/// of them leaves the window; a successful sign-in clears the address. Behind a proxy every operator shares the
/// proxy's address.
/// </summary>
public sealed class SignInThrottle(DashboardOptions options, TimeProvider time)
{
    /// <summary>Past this many addresses, ones with no failure left in the window are forgotten.</summary>
    private const int SweepAbove = 4096;

    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _failures = new(StringComparer.Ordinal);

    private TimeSpan Window => TimeSpan.FromSeconds(options.SignInWindowSeconds);

    /// <summary>Null when the address may try to sign in; otherwise how long until it may.</summary>
    public TimeSpan? RetryAfter(string address)
    {
        if (!_failures.TryGetValue(address, out var failures))
            return null;
        var now = time.GetUtcNow();
        lock (failures)
        {
            Prune(failures, now);
            return failures.Count < options.SignInAttempts ? null : failures.Peek() + Window - now;
        }
    }

    public void Failed(string address)
    {
        var failures = _failures.GetOrAdd(address, _ => new Queue<DateTimeOffset>());
        var now = time.GetUtcNow();
        lock (failures)
        {
            Prune(failures, now);
            failures.Enqueue(now);
        }
        if (_failures.Count > SweepAbove)
            Sweep(now);
    }

    public void Succeeded(string address) => _failures.TryRemove(address, out _);

    private void Prune(Queue<DateTimeOffset> failures, DateTimeOffset now)
    {
        while (failures.Count > 0 && failures.Peek() <= now - Window)
            failures.Dequeue();
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (address, failures) in _failures)
        {
            lock (failures)
            {
                Prune(failures, now);
                if (failures.Count == 0)
                    _failures.TryRemove(address, out _);
            }
        }
    }
}
