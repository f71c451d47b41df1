using System.Diagnostics;
using Federated.Client.Hosting;
using Federated.Client.Transport;
using Federated.Core.Adapters;
using Federated.Core.Model;
using Federated.Core.Randomness;
using Federated.Core.Runtime;
using Federated.Core.Training;
using Federated.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federated.Client.Training;

/// <summary>
/// Carries out one training task: bring the local global model up to the task's version, train a fresh
/// LoRA of the assigned rank for the assigned steps, upload its factors, report. Training runs on a
/// worker thread, synchronously, so TorchSharp's per-thread dispose scopes stay on one thread.
/// </summary>
public sealed partial class TaskRunner(
    CoordinatorConnection connection,
    UpdateUploader uploader,
    TransportRetry retry,
    LocalDataset data,
    ActivityTracker activity,
    IOptions<ClientOptions> options,
    ILogger<TaskRunner> logger) : IDisposable
{
    private ModelWorkspace? _workspace;

    public async Task RunAsync(string clientId, TrainingTask task, int chunkBytes, CancellationToken cancellationToken)
    {
        LogStarted(logger, task.TaskId, task.Round, task.Lora.Rank, task.LocalSteps, task.GlobalUpdates.Count);
        try
        {
            var clock = Stopwatch.StartNew();
            activity.Set(ClientActivity.Downloading, task.TaskId);
            var workspace = await Prepare(clientId, task, cancellationToken);
            var downloadSeconds = clock.Elapsed.TotalSeconds;

            activity.Set(ClientActivity.Training, task.TaskId);
            var (report, adapter) = await ComputeThread.Run(() => Train(workspace, clientId, task, cancellationToken), cancellationToken);

            activity.Set(ClientActivity.Uploading, task.TaskId, 1);
            var reply = await Upload(clientId, task, report, adapter, downloadSeconds, chunkBytes, cancellationToken);
            LogUploaded(logger, task.TaskId, reply.Sha256, report.FirstLoss, report.FinalLoss, report.SecondsPerStep, reply.Duplicate);
            await Report(clientId, task, report, cancellationToken);
        }
        catch (Exception e) when (e is not RpcException and not OperationCanceledException && !TransientErrors.IsTransportFailure(e))
        {
            // Not the network's fault (a bad base model, a failed training run, a damaged download): give
            // the task back so the round need not wait for its deadline.
            LogRejected(logger, e, task.TaskId, e.Message);
            await Abandon(clientId, task, e.Message, cancellationToken);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.FailedPrecondition)
        {
            LogOvertaken(logger, task.TaskId, e.Status.Detail); // the round moved on without us: nothing to keep
        }
        finally
        {
            activity.Set(ClientActivity.Idle);
        }
    }

    /// <summary>The task's deadline at the server, past which retrying its calls is pointless.</summary>
    private static DateTimeOffset? Deadline(TrainingTask task) => task.Deadline?.ToDateTimeOffset();

    private async Task Abandon(string clientId, TrainingTask task, string reason, CancellationToken cancellationToken)
    {
        var request = new AbandonTaskRequest
        {
            ClientId = clientId,
            JobId = task.JobId,
            Round = task.Round,
            TaskId = task.TaskId,
            Reason = reason,
        };
        try
        {
            await retry.RunAsync(task.TaskId, "giving the task back", Deadline(task), token => connection.Client.AbandonTaskAsync(request, cancellationToken: token).ResponseAsync, cancellationToken);
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            LogOvertaken(logger, task.TaskId, e.Status.Detail); // expired or closed already: the server has moved on
        }
    }

    private async Task<ModelWorkspace> Prepare(string clientId, TrainingTask task, CancellationToken cancellationToken)
    {
        var updates = task.GlobalUpdates.OrderBy(u => u.Round).ToList();
        var hashes = updates.Select(u => u.Sha256).ToList();
        if (_workspace is null || _workspace.JobId != task.JobId || _workspace.BaseModel != task.BaseModel.Reference || !_workspace.CanReach(hashes))
        {
            _workspace?.Dispose();
            _workspace = null;
            var device = ComputeDevices.Resolve(options.Value.Device);
            _workspace = await ComputeThread.Run(() => new ModelWorkspace(task.JobId, task.BaseModel.Reference, device), cancellationToken);
        }
        var fingerprint = _workspace.BaseFingerprint;
        if (task.BaseModel.Fingerprint.Length > 0 && fingerprint != task.BaseModel.Fingerprint)
        {
            _workspace.Dispose();
            _workspace = null;
            throw new TaskRejectedException($"base model '{task.BaseModel.Reference}' here has fingerprint {fingerprint}, the job's has {task.BaseModel.Fingerprint}");
        }

        var downloads = Path.Combine(options.Value.WorkDirectory, "downloads");
        Directory.CreateDirectory(downloads);
        var pending = updates.Skip(_workspace.Merged.Count).ToList();
        var minimum = options.Value.CatchUpMinUpdates;
        if (minimum > 0 && pending.Count >= minimum && await TryCatchUp(clientId, task, pending, downloads, cancellationToken))
            pending.Clear();
        foreach (var update in pending)
        {
            var path = Path.Combine(downloads, update.Sha256 + ".safetensors");
            await Download(clientId, task, update.Sha256, path, cancellationToken);
            var adapter = await AdapterSerializer.ReadFileAsync(path, cancellationToken);
            File.Delete(path); // merged into the workspace's weights; a rebuilt workspace downloads again
            var workspace = _workspace;
            await ComputeThread.Run(() => workspace.Merge(update.Sha256, adapter), cancellationToken);
            LogMerged(logger, update.Round, update.Sha256, update.Rank);
        }
        return _workspace;
    }

    /// <summary>Merges one compacted update in place of <paramref name="pending"/>; false (merge them one by one) if the server cannot give one.</summary>
    private async Task<bool> TryCatchUp(string clientId, TrainingTask task, IReadOnlyList<AdapterRef> pending, string downloads, CancellationToken cancellationToken)
    {
        GetCatchUpReply reply;
        try
        {
            var request = new GetCatchUpRequest
            {
                ClientId = clientId,
                JobId = task.JobId,
                Rank = task.Lora.Rank,
                AfterRound = pending[0].Round - 1,
                ThroughRound = pending[^1].Round,
            };
            reply = await retry.RunAsync(task.TaskId, "asking for a catch-up", Deadline(task), token => connection.Client.GetCatchUpAsync(request, cancellationToken: token).ResponseAsync, cancellationToken);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unimplemented or StatusCode.FailedPrecondition or StatusCode.InvalidArgument)
        {
            LogCatchUpUnavailable(logger, task.TaskId, e.Status.Detail);
            return false;
        }
        if (!reply.Covers.SequenceEqual(pending.Select(u => u.Sha256)))
        {
            LogCatchUpUnavailable(logger, task.TaskId, "the compacted update covers other updates than this task lists");
            return false;
        }
        var path = Path.Combine(downloads, reply.Update.Sha256 + ".safetensors");
        await Download(clientId, task, reply.Update.Sha256, path, cancellationToken);
        var adapter = await AdapterSerializer.ReadFileAsync(path, cancellationToken);
        File.Delete(path);
        var workspace = _workspace!;
        await ComputeThread.Run(() => workspace.MergeCompacted(reply.Covers, adapter), cancellationToken);
        LogCaughtUp(logger, pending[0].Round, pending[^1].Round, reply.Update.Sha256, reply.InputRank, reply.Update.Rank, reply.RelativeError);
        return true;
    }

    /// <summary>A download cut on the way (its silo went away) starts again, through whichever address answers.</summary>
    private Task Download(string clientId, TrainingTask task, string sha256, string path, CancellationToken cancellationToken)
        => retry.RunAsync(task.TaskId, $"download of {sha256}", Deadline(task), token => connection.DownloadAsync(clientId, sha256, path, token), cancellationToken);

    /// <summary>The global model this runner trains on (null before its first task).</summary>
    public ModelWorkspace? Workspace => _workspace;

    private (TrainingReport Report, LoraAdapter Adapter) Train(ModelWorkspace workspace, string clientId, TrainingTask task, CancellationToken cancellationToken)
    {
        if (options.Value.Threads > 0)
            TorchSharp.torch.set_num_threads(options.Value.Threads);
        var h = task.Hyperparameters;
        var seed = DeterministicRandom.Mix(h.Seed, $"{clientId}/{task.JobId}/{task.Round}");
        var training = new TrainingOptions
        {
            Steps = task.LocalSteps,
            BatchSize = h.BatchSize,
            LearningRate = h.LearningRate,
            WeightDecay = h.WeightDecay,
            WarmupSteps = h.WarmupSteps,
            MaxGradNorm = h.MaxGradNorm,
            MaxSequenceLength = h.MaxSequenceLength,
            Seed = seed,
            GradientAccumulationSteps = h.GradientAccumulationSteps,
            Precision = TrainingPrecisions.Parse(h.Precision, "hyperparameters.precision"),
            GradientCheckpointing = h.GradientCheckpointing,
            GroupByLength = h.GroupByLength,
        };
        var model = workspace.Model;
        try
        {
            var examples = data.Tokenized(task.BaseModel.Reference, h.MaxSequenceLength);
            model.AttachLora(new LoraSettings(task.Lora.Rank, task.Lora.Alpha, task.Lora.Dropout), task.TargetModules, seed);
            var report = LoraTrainer.Train(model, examples, training, p => activity.Progress((double)p.Step / p.Steps), cancellationToken);
            return (report, model.ExportLora());
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new TaskRejectedException($"training failed: {e.Message}", e);
        }
        finally
        {
            model.DetachLora();
        }
    }

    private async Task<UploadUpdateReply> Upload(string clientId, TrainingTask task, TrainingReport report, LoraAdapter adapter, double downloadSeconds, int chunkBytes, CancellationToken cancellationToken)
    {
        var header = new UpdateHeader
        {
            ClientId = clientId,
            TaskId = task.TaskId,
            JobId = task.JobId,
            Round = task.Round,
            Rank = task.Lora.Rank,
            Alpha = task.Lora.Alpha,
            NumSamples = data.Count,
            Stats = new TrainingStats
            {
                Steps = report.Steps,
                FirstLoss = report.FirstLoss,
                MeanLoss = report.MeanLoss,
                FinalLoss = report.FinalLoss,
                ComputeSeconds = report.Seconds,
                SecondsPerStep = report.SecondsPerStep,
                Tokens = report.Tokens,
                DownloadSeconds = downloadSeconds,
            },
        };
        // On disk before the first byte is sent, and kept until the server answers for it (retried across
        // broken connections and restarts of either side); the server's answer, not the deadline, ends it.
        var pending = await uploader.SaveAsync(header, stream => AdapterSerializer.WriteAsync(stream, adapter, cancellationToken), cancellationToken);
        return await uploader.SendAsync(pending, chunkBytes, cancellationToken);
    }

    private async Task Report(string clientId, TrainingTask task, TrainingReport report, CancellationToken cancellationToken)
    {
        var request = new ReportMetricsRequest { ClientId = clientId, JobId = task.JobId, Round = task.Round, TaskId = task.TaskId };
        request.Metrics.Add("train_loss_first", report.FirstLoss);
        request.Metrics.Add("train_loss_final", report.FinalLoss);
        request.Metrics.Add("tokens_per_second", report.Seconds > 0 ? report.Tokens / report.Seconds : 0);
        try
        {
            await connection.Client.ReportMetricsAsync(request, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Metrics are a courtesy; the update is in, so no failure here may give the task back.
            LogReportSkipped(logger, task.TaskId, e is RpcException r ? r.StatusCode.ToString() : e.GetType().Name);
        }
    }

    public void Dispose() => _workspace?.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId}: round {Round}, rank {Rank}, {Steps} steps, {Updates} global updates to apply")]
    private static partial void LogStarted(ILogger logger, string taskId, int round, int rank, int steps, int updates);

    [LoggerMessage(Level = LogLevel.Information, Message = "Caught up on rounds {From}..{Through} with one compacted update {Sha256}: rank {InputRank} → {Rank}, relative error {Error:E2}")]
    private static partial void LogCaughtUp(ILogger logger, int from, int through, string sha256, int inputRank, int rank, double error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId}: no compacted catch-up ({Reason}); merging updates one by one")]
    private static partial void LogCatchUpUnavailable(ILogger logger, string taskId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Merged global update of round {Round} ({Sha256}, rank {Rank})")]
    private static partial void LogMerged(ILogger logger, int round, string sha256, int rank);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId}: uploaded {Sha256}; loss {FirstLoss:F3} → {FinalLoss:F3}, {SecondsPerStep:F3} s/step (duplicate: {Duplicate})")]
    private static partial void LogUploaded(ILogger logger, string taskId, string sha256, double firstLoss, double finalLoss, double secondsPerStep, bool duplicate);

    [LoggerMessage(Level = LogLevel.Error, Message = "Task {TaskId} given back: {Reason}")]
    private static partial void LogRejected(ILogger logger, Exception exception, string taskId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} no longer wanted: {Reason}")]
    private static partial void LogOvertaken(ILogger logger, string taskId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Task {TaskId}: metrics not reported ({Status})")]
    private static partial void LogReportSkipped(ILogger logger, string taskId, string status);
}
