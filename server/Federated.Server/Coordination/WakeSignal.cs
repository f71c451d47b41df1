namespace Federated.Server.Coordination;

/// <summary>
/// Wakes one background loop: however many changes call <see cref="Wake"/> while it works, it runs once more.
/// For hosted services (<see cref="ChangeSignal"/> is the grains' equivalent, inside one activation).
/// </summary>
public sealed class WakeSignal : IDisposable
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    public void Wake()
    {
        if (_wake.CurrentCount > 0)
            return;
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // another change released it first
        }
    }

    /// <summary>Completes at the next wake (at once if one came since the last wait).</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => _wake.WaitAsync(cancellationToken);

    /// <summary>Completes at the next wake or after <paramref name="timeout"/>.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _wake.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _wake.Dispose();
}
