namespace Federated.Server.Coordination;

/// <summary>
/// An Orleans reminder that a grain with unfinished work holds (a running job's scheduler, a job owed evaluations).
/// Grain timers and in-memory work die with their silo, and nothing else calls such a grain when no client does;
/// reminders live in the reminder table, so after a silo dies another silo's reminder service takes its share and
/// the next tick activates the grain there, whose activation picks its work up again from persisted state.
/// </summary>
public sealed partial class KeepAliveReminder(IGrainBase grain, TimeSpan period, ILogger logger)
{
    public const string Name = "keep-alive";

    /// <summary>Whether the table holds the reminder, as far as this activation knows; null until it has looked.</summary>
    private bool? _registered;

    /// <summary>
    /// Registers the reminder when <paramref name="wanted"/>, removes it when not: one table call per change in an
    /// activation, none while it stays the same. A failure is logged and tried again at the next call, never thrown:
    /// the caller's own work has been done and persisted already.
    /// </summary>
    public async Task SetAsync(bool wanted)
    {
        if (_registered == wanted)
            return;
        try
        {
            if (wanted)
                await grain.RegisterOrUpdateReminder(Name, period, period);
            else if (await grain.GetReminder(Name) is { } reminder)
                await grain.UnregisterReminder(reminder);
            _registered = wanted;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(logger, e, grain.GrainContext.GrainId.ToString(), wanted ? "register" : "remove");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Grain}: could not {Action} its keep-alive reminder; trying again at its next call")]
    private static partial void LogFailed(ILogger logger, Exception exception, string grain, string action);
}
