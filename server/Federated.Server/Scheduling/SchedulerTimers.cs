namespace Federated.Server.Scheduling;

/// <summary>
/// A scheduler grain's two timers: a periodic tick (the fallback) and a one-shot wake-up at the ledger's next
/// deadline. Ticks run one at a time: one asked for while another is in flight waits for it, so its caller sees
/// what that tick did.
/// </summary>
public sealed class SchedulerTimers(TimeProvider time)
{
    private IGrainTimer? _wake;
    private Task? _ticking;

    /// <summary>Registers both timers on <paramref name="grain"/>; each calls <paramref name="tick"/>.</summary>
    public void Register(IGrainBase grain, TimeSpan period, Func<Task> tick)
    {
        grain.RegisterGrainTimer(_ => tick(), new GrainTimerCreationOptions { DueTime = period, Period = period, Interleave = false });
        _wake = grain.RegisterGrainTimer(_ => tick(), new GrainTimerCreationOptions { DueTime = Timeout.InfiniteTimeSpan, Period = Timeout.InfiniteTimeSpan, Interleave = false });
    }

    /// <summary>Runs <paramref name="tickOnce"/> after any tick in flight.</summary>
    public async Task TickAfterOthers(Func<Task> tickOnce)
    {
        while (_ticking is { IsCompleted: false } running)
            await running;
        await (_ticking = tickOnce());
    }

    /// <summary>Sets the wake-up for <paramref name="next"/> (now if past); null leaves it as it is.</summary>
    public void WakeAt(DateTimeOffset? next)
    {
        if (_wake is null || next is not { } at)
            return;
        var due = at - time.GetUtcNow();
        _wake.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }
}
