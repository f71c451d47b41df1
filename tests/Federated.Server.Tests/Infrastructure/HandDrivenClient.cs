using Federated.Core.Adapters;
using Federated.Protos.V1;

namespace Federated.Server.Tests.Infrastructure;

/// <summary>
/// A client driven by hand over gRPC, one call at a time: enrol, ask for work, send a random update of the
/// right shapes. The one copy of these steps for every test that plays a client itself.
/// </summary>
public static class HandDrivenClient
{
    /// <summary>Enrols <paramref name="clientId"/> (with <paramref name="device"/>, if given) and asks once for a task.</summary>
    public static async Task<PollTaskReply> EnrolAndPoll(this Coordinator.CoordinatorClient coordinator, string clientId, int waitSeconds, DeviceProfile? device = null)
    {
        await coordinator.EnrolAsync(new EnrolRequest { ClientId = clientId, Device = device });
        return await coordinator.Poll(clientId, waitSeconds);
    }

    /// <summary>Enrols and asks for a task, which must come.</summary>
    public static async Task<TrainingTask> EnrolAndTakeTask(this Coordinator.CoordinatorClient coordinator, string clientId, int waitSeconds = 5, DeviceProfile? device = null)
    {
        var reply = await coordinator.EnrolAndPoll(clientId, waitSeconds, device);
        Assert.True(reply.OutcomeCase == PollTaskReply.OutcomeOneofCase.Task, $"{clientId} got no task: {reply.NoTask?.Reason}");
        return reply.Task;
    }

    public static Task<PollTaskReply> Poll(this Coordinator.CoordinatorClient coordinator, string clientId, int waitSeconds)
        => coordinator.PollTaskAsync(new PollTaskRequest { ClientId = clientId, WaitSeconds = waitSeconds }).ResponseAsync;

    /// <summary>Sends a random update for <paramref name="task"/>, reporting <paramref name="secondsPerStep"/> as the measured speed.</summary>
    public static Task<UploadUpdateReply> UploadRandomUpdate(this Coordinator.CoordinatorClient coordinator, TrainingTask task, string clientId, double secondsPerStep = 0.1)
    {
        var bytes = AdapterSerializer.ToBytes(Updates.For(task));
        var header = Updates.Header(task, clientId, bytes.Length);
        header.Stats.SecondsPerStep = secondsPerStep;
        return Updates.Upload(coordinator, header, bytes);
    }
}
