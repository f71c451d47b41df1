using Federated.Protos.V1;

namespace Federated.Client.Hosting;

/// <summary>What the daemon is doing now, as the heartbeat reports it. Written by the task, read by the heartbeat loop.</summary>
public sealed class ActivityTracker
{
    private readonly Lock _lock = new();
    private ClientActivity _activity = ClientActivity.Idle;
    private string _taskId = "";
    private double _progress;

    public void Set(ClientActivity activity, string taskId = "", double progress = 0)
    {
        lock (_lock)
        {
            _activity = activity;
            _taskId = taskId;
            _progress = progress;
        }
    }

    public void Progress(double progress)
    {
        lock (_lock)
            _progress = progress;
    }

    public HeartbeatRequest Heartbeat(string clientId)
    {
        lock (_lock)
            return new HeartbeatRequest { ClientId = clientId, Activity = _activity, TaskId = _taskId, Progress = _progress };
    }
}
