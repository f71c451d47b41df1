using System.Collections.Concurrent;
using System.Diagnostics;
using Federated.Client.Transport;
using Federated.Core.Adapters;
using Federated.Protos.V1;
using Grpc.Core;

namespace Federated.Simulations.Bench;

/// <summary>What the load bench runs: how many daemons, for how long, and the few server settings a short run changes.</summary>
public sealed record LoadSettings
{
    public int Daemons { get; init; } = 1000;

    public int Seconds { get; init; } = 60;

    /// <summary>Federated.Server.dll or its apphost; null: the one next to this program.</summary>
    public string? ServerPath { get; init; }

    /// <summary>How long a poll may wait (the real daemon asks for 20 s; the server caps it).</summary>
    public int PollWaitSeconds { get; init; } = 20;

    /// <summary>The server's heartbeat interval, handed to daemons at enrolment; null: the server's default.</summary>
    public int? HeartbeatIntervalSeconds { get; init; }

    /// <summary>Time a daemon "trains" a task before uploading, so the bench loads the RPC layer, not a training storm.</summary>
    public double TrainSeconds { get; init; } = 30;

    public int DaemonsPerChannel { get; init; } = 100;
}

/// <summary>Latency (milliseconds) and failures of each RPC, from every daemon at once.</summary>
public sealed class RpcRecorder
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<double>> _latencies = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<StatusCode, int>> _errors = new();

    public static readonly string[] Rpcs = ["Enrol", "Heartbeat", "PollTask", "UploadUpdate"];

    /// <summary>Runs one call, recording its time or its status; null when it failed or <paramref name="stop"/> ended it.</summary>
    public async Task<T?> Time<T>(string rpc, Func<Task<T>> call, CancellationToken stop)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var reply = await call();
            _latencies.GetOrAdd(rpc, _ => []).Add(clock.Elapsed.TotalMilliseconds);
            return reply;
        }
        catch (RpcException) when (stop.IsCancellationRequested)
        {
            return null; // cut off by the end of the run: neither a latency nor an error
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return null;
        }
        catch (RpcException e)
        {
            _errors.GetOrAdd(rpc, _ => new()).AddOrUpdate(e.StatusCode, 1, (_, n) => n + 1);
            return null;
        }
    }

    public int Calls(string rpc) => _latencies.TryGetValue(rpc, out var bag) ? bag.Count : 0;

    public int Errors() => _errors.Values.Sum(e => e.Values.Sum());

    public RpcSummary Summary(string rpc)
    {
        var sorted = (_latencies.TryGetValue(rpc, out var bag) ? bag.ToArray() : []).Order().ToArray();
        var errors = _errors.TryGetValue(rpc, out var byStatus) ? byStatus.ToDictionary(p => p.Key, p => p.Value) : [];
        double At(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new RpcSummary(rpc, sorted.Length, errors, At(0.5), At(0.99), sorted.Length == 0 ? double.NaN : sorted[^1]);
    }
}

/// <summary>One RPC's figures: successful calls, failures by status, latency quantiles in milliseconds.</summary>
public sealed record RpcSummary(string Rpc, int Calls, IReadOnlyDictionary<StatusCode, int> ErrorsByStatus, double P50Ms, double P99Ms, double MaxMs)
{
    public int Errors => ErrorsByStatus.Values.Sum();
}

/// <summary>
/// A client daemon as the real one behaves over gRPC (see Federated.Client's ClientDaemon and TaskRunner): enrol,
/// heartbeat at the server's interval, long-poll for a task, and upload an update of the task's shapes in chunks with
/// a SHA-256 trailer. Training is a wait; the update is random.
/// </summary>
public sealed class FakeDaemon(string clientId, Coordinator.CoordinatorClient client, LoadSettings settings, RpcRecorder recorder)
{
    private static readonly TimeSpan RetryAfterError = TimeSpan.FromSeconds(1);
    private volatile string _taskId = "";
    private volatile int _activity = (int)ClientActivity.Idle;

    public bool Enrolled { get; private set; }

    public async Task RunAsync(CancellationToken stop)
    {
        EnrolReply? enrolment = null;
        while (enrolment is null && !stop.IsCancellationRequested)
        {
            enrolment = await recorder.Time("Enrol", () => client.EnrolAsync(new EnrolRequest { ClientId = clientId }, cancellationToken: stop).ResponseAsync, stop);
            if (enrolment is null)
                await Pause(RetryAfterError, stop);
        }
        if (enrolment is null)
            return;
        Enrolled = true;
        var heartbeats = Heartbeats(TimeSpan.FromSeconds(Math.Max(1, enrolment.HeartbeatIntervalSeconds)), stop);
        await Work(Math.Min(1 << 20, enrolment.MaxChunkBytes), stop);
        await heartbeats;
    }

    private async Task Heartbeats(TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var request = new HeartbeatRequest { ClientId = clientId, Activity = (ClientActivity)_activity, TaskId = _taskId };
                await recorder.Time("Heartbeat", () => client.HeartbeatAsync(request, deadline: CallDeadline.After(interval), cancellationToken: stop).ResponseAsync, stop);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task Work(int chunkBytes, CancellationToken stop)
    {
        var wait = settings.PollWaitSeconds;
        while (!stop.IsCancellationRequested)
        {
            var reply = await recorder.Time("PollTask", () => client.PollTaskAsync(
                new PollTaskRequest { ClientId = clientId, WaitSeconds = wait },
                deadline: CallDeadline.After(TimeSpan.FromSeconds(wait + 30)), cancellationToken: stop).ResponseAsync, stop);
            if (reply is null)
                await Pause(RetryAfterError, stop);
            else if (reply.OutcomeCase == PollTaskReply.OutcomeOneofCase.Task)
                await RunTask(reply.Task, chunkBytes, stop);
            else if (reply.NoTask.RetryAfterMs > 0)
                await Pause(TimeSpan.FromMilliseconds(reply.NoTask.RetryAfterMs), stop);
        }
    }

    private async Task RunTask(TrainingTask task, int chunkBytes, CancellationToken stop)
    {
        _taskId = task.TaskId;
        _activity = (int)ClientActivity.Training;
        await Pause(TimeSpan.FromSeconds(settings.TrainSeconds), stop);
        if (stop.IsCancellationRequested)
            return;
        _activity = (int)ClientActivity.Uploading;
        var bytes = AdapterSerializer.ToBytes(RandomUpdates.For(task, seed: (ulong)task.TaskId.GetHashCode(StringComparison.Ordinal)));
        var header = new UpdateHeader
        {
            ClientId = clientId,
            JobId = task.JobId,
            TaskId = task.TaskId,
            Round = task.Round,
            Rank = task.Lora.Rank,
            Alpha = task.Lora.Alpha,
            NumSamples = 100,
            SizeBytes = bytes.Length,
            Stats = new TrainingStats { Steps = Math.Max(1, task.LocalSteps), SecondsPerStep = settings.TrainSeconds / Math.Max(1, task.LocalSteps), ComputeSeconds = settings.TrainSeconds },
        };
        await recorder.Time("UploadUpdate", () => RandomUpdates.UploadAsync(client, header, bytes, chunkBytes, options: new CallOptions(deadline: CallDeadline.After(TimeSpan.FromMinutes(2)), cancellationToken: stop)), stop);
        _activity = (int)ClientActivity.Idle;
        _taskId = "";
    }

    private static async Task Pause(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
