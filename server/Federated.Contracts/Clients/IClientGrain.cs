namespace Federated.Contracts.Clients;

/// <summary>One enrolled client (key: client id): its device, liveness and measured speed.</summary>
public interface IClientGrain : IGrainWithStringKey
{
    /// <summary>Enrols or re-enrols a client whose caller is already authenticated as it (or a legacy, shared-token caller).</summary>
    Task<ClientSnapshot> Enrol(ClientProfile profile);

    /// <summary>
    /// A first enrolment under a new credential (its secret's SHA-256), admitted by join token
    /// <paramref name="joinTokenId"/> (null: open enrolment). PERMISSION_DENIED when the id already has a credential,
    /// unless this repeats the first enrolment through the same join token and that credential was never used
    /// (the daemon never got the reply): then the new credential replaces it.
    /// </summary>
    Task<ClientSnapshot> EnrolNew(ClientProfile profile, byte[] credentialHash, string? joinTokenId);

    /// <summary>Null when <paramref name="credentialHash"/> is this client's live credential; else why it is refused.</summary>
    Task<string?> Authenticate(byte[] credentialHash);

    /// <summary>Records liveness; false when the client is not enrolled.</summary>
    Task<bool> Heartbeat(ClientActivityKind activity, string? taskId, double progress);

    Task<bool> IsEnrolled();

    /// <summary>The client, or NOT_FOUND.</summary>
    Task<ClientSnapshot> GetSnapshot();

    /// <summary>An operator pauses, resumes (Active), drains or removes the client; NOT_FOUND if never enrolled.</summary>
    Task<ClientSnapshot> SetAdmission(ClientAdmission admission);

    /// <summary>Whether the client may be given a task now; a draining client asking for one has finished and is removed.</summary>
    Task<bool> MayTakeTasks();

    /// <summary>
    /// Returns at once if the client is active, else when an operator changes its admission or after
    /// <paramref name="timeout"/>: whether it is active then (so a resumed client's held poll gets work at once).
    /// </summary>
    [AlwaysInterleave]
    Task<bool> WaitUntilActive(TimeSpan timeout);

    /// <summary>A task of this client, at this LoRA rank, was accepted; updates its speed estimate and trend.</summary>
    Task RecordTaskCompleted(string taskId, double secondsPerStep, int rank);

    /// <summary>A task of this client passed its deadline.</summary>
    Task RecordTaskExpired(string taskId);
}
