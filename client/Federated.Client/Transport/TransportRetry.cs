using Federated.Client.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federated.Client.Transport;

/// <summary>
/// Runs a call of a task again, with backoff, while it fails on the way (a cut stream, a silo that went away,
/// an unreachable server) rather than being answered, so a task survives a failover: the channel has moved to
/// another address by the next attempt. It stops at the task's deadline, after which the server has given
/// the task to someone else; an answer (a refusal included) ends it at once.
/// </summary>
public sealed partial class TransportRetry(IOptions<ClientOptions> options, DaemonHealth health, TimeProvider time, ILogger<TransportRetry> logger)
{
    public async Task<T> RunAsync<T>(string taskId, string what, DateTimeOffset? deadline, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(options.Value.ReconnectMinSeconds), TimeSpan.FromSeconds(options.Value.ReconnectMaxSeconds));
        while (true)
        {
            try
            {
                return await call(cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && OnTheWay(e) && (deadline is null || time.GetUtcNow() < deadline))
            {
                health.RecordUnreachable();
                var wait = TransientErrors.Wait(e, backoff.Next());
                LogRetry(logger, taskId, what, e is RpcException r ? r.StatusCode.ToString() : e.GetType().Name, e.Message, wait.TotalSeconds);
                await Task.Delay(wait, time, cancellationToken);
            }
        }
    }

    /// <summary>A transient status or a connection fault; not DATA_LOSS, which for a download means bytes that do not match.</summary>
    private static bool OnTheWay(Exception e) => e is RpcException r ? TransientErrors.IsTransient(r) : TransientErrors.IsTransportFailure(e);

    public Task RunAsync(string taskId, string what, DateTimeOffset? deadline, Func<CancellationToken, Task> call, CancellationToken cancellationToken)
        => RunAsync(taskId, what, deadline, async token => { await call(token); return true; }, cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId}: {What} failed on the way ({Failure}: {Reason}); trying again in {Seconds:F1} s")]
    private static partial void LogRetry(ILogger logger, string taskId, string what, string failure, string reason, double seconds);
}
