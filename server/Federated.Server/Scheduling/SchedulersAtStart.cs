using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Server.Hosting;

namespace Federated.Server.Scheduling;

/// <summary>
/// Local mode keeps reminders in memory, so a restart loses the schedulers' keep-alives: once the server has started,
/// each active job's scheduler is ticked once, which restores its ledger, acts on what fell due while the server was
/// down, re-arms its timers and registers its keep-alive again, with no client calling. (Postgres mode needs none of
/// this: its reminders are in the database.)
/// </summary>
public sealed partial class SchedulersAtStart(IGrainFactory grains, IHostApplicationLifetime lifetime, ILogger<SchedulersAtStart> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!await HostStarted.WaitAsync(lifetime, stoppingToken))
            return;
        string[] jobs;
        try
        {
            jobs = await grains.GetGrain<IJobDirectoryGrain>(0).ListActiveJobs();
        }
        catch (Exception e)
        {
            LogNotListed(logger, e);
            return;
        }
        foreach (var jobId in jobs.TakeWhile(_ => !stoppingToken.IsCancellationRequested))
        {
            try
            {
                await grains.GetGrain<ISchedulerGrain>(jobId).Tick();
            }
            catch (Exception e)
            {
                LogNotTicked(logger, e, jobId); // its first client call will do it
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not list the active jobs to wake their schedulers after the start; each wakes at its first client call")]
    private static partial void LogNotListed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: its scheduler could not be woken after the start; it wakes at its first client call")]
    private static partial void LogNotTicked(ILogger logger, Exception exception, string jobId);
}
