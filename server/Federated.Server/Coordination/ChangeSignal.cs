namespace Federated.Server.Coordination;

/// <summary>
/// Lets interleaved grain calls wait for the grain's next change (long polls and watches) without polling.
/// Used only from inside one grain activation, so it needs no locking.
/// </summary>
public sealed class ChangeSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Notifications so far in this activation (not persisted; a caller passes back the count it saw).</summary>
    public long Count { get; private set; }

    public void Notify()
    {
        Count++;
        var current = _next;
        _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        current.TrySetResult();
    }

    /// <summary>Completes at once if a notification came after <paramref name="knownCount"/>, else as <see cref="WaitAsync(TimeSpan)"/>.</summary>
    public Task WaitAsync(long knownCount, TimeSpan timeout, TimeProvider? time = null) => Count > knownCount ? Task.CompletedTask : WaitAsync(timeout, time);

    /// <summary>Completes at the next <see cref="Notify"/> or after <paramref name="timeout"/>, whichever is first.</summary>
    /// <param name="time">The clock the timeout runs on (the real one when null).</param>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider? time = null)
    {
        var next = _next.Task;
        using var cancel = new CancellationTokenSource();
        var winner = await Task.WhenAny(next, Task.Delay(timeout, time ?? TimeProvider.System, cancel.Token)).ConfigureAwait(true);
        if (winner == next)
            await cancel.CancelAsync().ConfigureAwait(true);
    }
}
