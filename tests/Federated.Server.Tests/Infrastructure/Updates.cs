using Federated.Core.Adapters;
using Federated.Protos.V1;
using Federated.Simulations.Bench;
using Grpc.Core;

namespace Federated.Server.Tests.Infrastructure;

/// <summary>Hand-made updates and raw upload streams, for driving the coordinator with good and bad input.</summary>
public static class Updates
{
    /// <summary>A random update with the shapes a task expects (or <paramref name="rank"/> instead of its own).</summary>
    public static LoraAdapter For(TrainingTask task, int? rank = null, ulong seed = 1) => RandomUpdates.For(task, rank, seed);

    public static UpdateHeader Header(TrainingTask task, string clientId, long size, int? rank = null) => new()
    {
        ClientId = clientId,
        JobId = task.JobId,
        TaskId = task.TaskId,
        Round = task.Round,
        Rank = rank ?? task.Lora.Rank,
        Alpha = task.Lora.Alpha,
        NumSamples = 100,
        SizeBytes = size,
        Stats = new TrainingStats { Steps = 1, SecondsPerStep = 0.1 },
    };

    /// <summary>Sends header, data in chunks, trailer; the options break the protocol in chosen ways.</summary>
    public static Task<UploadUpdateReply> Upload(Coordinator.CoordinatorClient client, UpdateHeader? header, byte[] payload, int chunk = 1000, long? stopAfterBytes = null, string? trailerHash = null)
        => RandomUpdates.UploadAsync(client, header, payload, chunk, stopAfterBytes, trailerHash);

    /// <summary>Runs a call that must fail and returns its status.</summary>
    public static async Task<Status> Refused(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        return error.Status;
    }
}
