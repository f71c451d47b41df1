using Federated.Protos.V1;
using Grpc.Core;

namespace Federated.Simulations.Commands;

/// <summary>
/// `federated job watch`: follows a job until nothing more will change, reconnecting with backoff when the
/// server goes away (a restart, a network cut) instead of exiting: the watch stream is opened again and the job's
/// whole status comes first, so no round is missed. A refusal (no such job, a bad token) still ends it.
/// </summary>
public sealed class JobWatch(Operator.OperatorClient client, string jobId, TimeProvider time)
{
    /// <summary>The first wait after the connection is lost; doubled after each failed attempt up to <see cref="MaxBackoff"/>.</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(500);

    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(15);

    /// <summary>Each status as it arrives (after a reconnection, the current one first).</summary>
    public Action<JobStatus>? OnStatus { get; init; }

    /// <summary>The connection was lost (the status the client saw, its detail) and is tried again after the wait.</summary>
    public Action<RpcException, TimeSpan>? OnReconnecting { get; init; }

    /// <summary>The job's last status, once it has ended and every round that will be evaluated has been.</summary>
    public async Task<JobStatus> RunAsync(CancellationToken cancellationToken)
    {
        JobStatus? last = null;
        var backoff = FirstBackoff;
        while (true)
        {
            try
            {
                using var call = client.WatchJob(new WatchJobRequest { JobId = jobId }, cancellationToken: cancellationToken);
                await foreach (var status in call.ResponseStream.ReadAllAsync(cancellationToken))
                {
                    last = status;
                    backoff = FirstBackoff; // connected again: the next loss starts the backoff afresh
                    OnStatus?.Invoke(status);
                }
                // The server ends the stream once the job is settled.
                return last ?? throw new InvalidOperationException($"the server sent no status for job '{jobId}'");
            }
            catch (RpcException e) when (IsConnectionLost(e, cancellationToken))
            {
                // The timer is made before the callback runs, so that a test's clock advanced from it is seen.
                var wait = Task.Delay(backoff, time, cancellationToken);
                OnReconnecting?.Invoke(e, backoff);
                await wait;
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    /// <summary>
    /// The server went away rather than answered: unreachable, or the stream cut under the call (which the client
    /// reports as Internal or Unknown with a transport exception inside). Refusals and our own cancellation end the watch.
    /// </summary>
    private static bool IsConnectionLost(RpcException e, CancellationToken cancellationToken)
        => !cancellationToken.IsCancellationRequested && (e.StatusCode == StatusCode.Unavailable
            || (e.StatusCode is StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled && e.Status.DebugException is IOException or HttpRequestException or HttpIOException or OperationCanceledException));
}
