using Federated.Client.Training;
using Federated.Client.Transport;
using Federated.Core.Runtime;
using Federated.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federated.Client.Hosting;

/// <summary>
/// The daemon's main loop: enrol, then ask for tasks and run them, forever. When the server is away the
/// loop waits with exponential backoff and starts again from enrolment; a server that forgot the client
/// (NOT_FOUND) is simply enrolled with again. A coordinator that refuses the client itself (its credential revoked,
/// its join token spent) stops the daemon with the reason: only an operator can mend that.
/// </summary>
public sealed partial class ClientDaemon(
    CoordinatorConnection connection,
    TaskRunner runner,
    UpdateUploader uploads,
    LocalDataset data,
    ActivityTracker activity,
    ClientCredentialStore credentials,
    DaemonHealth health,
    IOptions<ClientOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<ClientDaemon> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        string clientId;
        DeviceProfile profile;
        try
        {
            clientId = ClientIdentity.Resolve(settings);
            credentials.Load(clientId);
            LogData(logger, settings.DataPath, data.Count);
            profile = await ComputeThread.Run(() => ClientEnrolment.Probe(settings.Device), stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogCannotStart(logger, e, e.Message);
            health.Fail(e.Message);
            lifetime.StopApplication();
            return;
        }

        var backoff = new Backoff(TimeSpan.FromSeconds(settings.ReconnectMinSeconds), TimeSpan.FromSeconds(settings.ReconnectMaxSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var enrolment = await Enrol(clientId, profile, stoppingToken);
                LogEnrolled(logger, clientId, settings.ServerAddress, profile.Kind.ToString(), profile.MeasuredGflops);
                backoff.Reset();
                using var session = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var heartbeats = Heartbeats(clientId, TimeSpan.FromSeconds(enrolment.HeartbeatIntervalSeconds), session.Token);
                try
                {
                    var chunk = Math.Min(settings.UploadChunkBytes, enrolment.MaxChunkBytes);
                    await Work(clientId, chunk, stoppingToken);
                }
                finally
                {
                    await session.CancelAsync();
                    await heartbeats;
                }
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException e) when (TransientErrors.IsRefusalOfClient(e) && !stoppingToken.IsCancellationRequested)
            {
                var reason = ClientEnrolment.RefusalAdvice(e, credentials.Current is not null, settings.ServerAddress);
                LogRefused(logger, reason);
                health.Fail(reason);
                lifetime.StopApplication();
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                LogForgotten(logger, e.Status.Detail);
            }
            catch (RpcException e) when (Protos.ServerTrustException.Find(e) is { } untrusted)
            {
                // Not a server that is away: one that must not be talked to until its CA or this setting changes.
                // Kept trying (the operator may fix either), at error, so that it is not mistaken for a network blip.
                health.RecordUntrusted(untrusted.Message);
                var wait = backoff.Next();
                LogUntrusted(logger, untrusted.Message, wait.TotalSeconds);
                await Delay(wait, stoppingToken);
            }
            catch (RpcException e) when (TransientErrors.IsTransient(e))
            {
                health.RecordUnreachable();
                var wait = TransientErrors.Wait(e, backoff.Next()); // a rate limit's retry-after-ms, when longer
                LogUnreachable(logger, settings.ServerAddress, e.StatusCode.ToString(), wait.TotalSeconds);
                await Delay(wait, stoppingToken);
            }
            catch (Exception e)
            {
                // Unattended: log, wait, start again from enrolment rather than stop.
                var wait = backoff.Next();
                LogFault(logger, e, e.Message, wait.TotalSeconds);
                await Delay(wait, stoppingToken);
            }
        }
    }

    private Task Delay(TimeSpan wait, CancellationToken cancellationToken)
        => Task.Delay(wait, time, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);

    private async Task<EnrolReply> Enrol(string clientId, DeviceProfile profile, CancellationToken cancellationToken)
    {
        // The join token is for a first enrolment only: once the client holds its credential the channel sends that.
        var joinToken = credentials.Current is null ? options.Value.JoinToken ?? "" : "";
        var request = ClientEnrolment.Request(clientId, profile, options.Value.Labels, joinToken);
        var reply = await connection.Client.EnrolAsync(request, deadline: CallDeadline.After(TimeSpan.FromSeconds(30)), cancellationToken: cancellationToken);
        if (reply.Credential.Length > 0)
        {
            credentials.Save(reply.Credential, clientId);
            LogCredentialStored(logger, credentials.Path);
        }
        return reply;
    }

    private async Task Work(string clientId, int chunkBytes, CancellationToken cancellationToken)
    {
        var wait = options.Value.PollWaitSeconds;
        await uploads.ResumeAsync(chunkBytes, cancellationToken); // updates trained before a restart come first
        while (!cancellationToken.IsCancellationRequested)
        {
            var reply = await connection.Client.PollTaskAsync(
                new PollTaskRequest { ClientId = clientId, WaitSeconds = wait },
                deadline: CallDeadline.After(TimeSpan.FromSeconds(wait + 30)),
                cancellationToken: cancellationToken);
            if (reply.OutcomeCase == PollTaskReply.OutcomeOneofCase.Task)
                await runner.RunAsync(clientId, reply.Task, chunkBytes, cancellationToken);
            else if (reply.NoTask.RetryAfterMs > 0)
                await Task.Delay(TimeSpan.FromMilliseconds(reply.NoTask.RetryAfterMs), time, cancellationToken);
        }
    }

    private async Task Heartbeats(string clientId, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await connection.Client.HeartbeatAsync(activity.Heartbeat(clientId), deadline: CallDeadline.After(interval), cancellationToken: cancellationToken);
                }
                catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
                {
                    LogHeartbeatFailed(logger, e.StatusCode.ToString()); // the main loop notices a lost server itself
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Local data {DataPath}: {Count} examples")]
    private static partial void LogData(ILogger logger, string dataPath, int count);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The client cannot start: {Reason}")]
    private static partial void LogCannotStart(ILogger logger, Exception exception, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Enrolled as {ClientId} with {Server} ({Device}, {Gflops:F1} GFLOP/s)")]
    private static partial void LogEnrolled(ILogger logger, string clientId, string server, string device, double gflops);

    [LoggerMessage(Level = LogLevel.Information, Message = "The coordinator gave this client its credential; kept in {Path} (owner-only)")]
    private static partial void LogCredentialStored(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The client stops: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server no longer knows this client ({Reason}); enrolling again")]
    private static partial void LogForgotten(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Server {Server} unreachable ({Status}); retrying in {Seconds:F1} s")]
    private static partial void LogUnreachable(ILogger logger, string server, string status, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "The coordinator is not trusted: {Reason}; trying again in {Seconds:F1} s")]
    private static partial void LogUntrusted(ILogger logger, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected fault: {Reason}; starting again in {Seconds:F1} s")]
    private static partial void LogFault(ILogger logger, Exception exception, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Heartbeat failed ({Status})")]
    private static partial void LogHeartbeatFailed(ILogger logger, string status);
}
