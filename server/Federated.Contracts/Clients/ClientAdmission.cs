namespace Federated.Contracts.Clients;

/// <summary>Whether an operator lets a client take tasks.</summary>
public enum ClientAdmission
{
    Active,

    /// <summary>Takes no new task until resumed; a task it holds may finish.</summary>
    Paused,

    /// <summary>Finishes the task it holds, then is removed.</summary>
    Draining,

    /// <summary>Takes no task and may not enrol again.</summary>
    Removed,
}
