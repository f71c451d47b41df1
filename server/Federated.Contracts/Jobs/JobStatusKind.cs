namespace Federated.Contracts.Jobs;

public enum JobStatusKind
{
    Running,
    Completed,
    Failed,

    /// <summary>An operator paused it: the scheduler hands out no tasks until it is resumed.</summary>
    Paused,

    /// <summary>An operator stopped it for good.</summary>
    Stopped,
}
