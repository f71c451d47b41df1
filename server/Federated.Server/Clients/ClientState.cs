using Federated.Contracts.Clients;

namespace Federated.Server.Clients;

/// <summary>Persisted state of a client grain. Liveness (last heartbeat, activity) stays in memory.</summary>
public sealed class ClientState
{
    public const int TrendLength = 20;

    public ClientProfile? Profile { get; set; }

    public DateTimeOffset EnrolledAt { get; set; }

    public DateTimeOffset LastSeen { get; set; }

    public int TasksCompleted { get; set; }

    public int TasksExpired { get; set; }

    public double? SecondsPerStep { get; set; }

    public ClientAdmission Admission { get; set; }

    /// <summary>The LoRA rank of its latest accepted update.</summary>
    public int? Rank { get; set; }

    /// <summary>SHA-256 of its credential's secret; null for a client enrolled before credentials (or by a test, directly).</summary>
    public byte[]? CredentialHash { get; set; }

    /// <summary>The join token it was enrolled with.</summary>
    public string? JoinTokenId { get; set; }

    /// <summary>Whether the credential has been presented since it was issued: until then a repeat of the first enrolment (its reply lost) may replace it.</summary>
    public bool CredentialUsed { get; set; }

    /// <summary>Seconds per step of its latest <see cref="TrendLength"/> accepted updates, oldest first.</summary>
    public List<double> SpeedTrend { get; set; } = [];
}
