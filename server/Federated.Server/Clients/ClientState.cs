using Federated.Contracts.Clients;

namespace Federated.Server.Clients;

/// <summary>Persisted state of a client grain. Liveness (last heartbeat, activity) stays in memory.</summary>
public sealed class ClientState
{
    public ClientProfile? Profile { get; set; }

    public DateTimeOffset EnrolledAt { get; set; }

    public DateTimeOffset LastSeen { get; set; }

    public int TasksCompleted { get; set; }

    public int TasksExpired { get; set; }

    public double? SecondsPerStep { get; set; }

    public ClientAdmission Admission { get; set; }
}
