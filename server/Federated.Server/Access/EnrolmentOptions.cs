using System.ComponentModel.DataAnnotations;

namespace Federated.Server.Access;

/// <summary>How client daemons are admitted and how often each may call (appsettings.json section "Server:Enrolment").</summary>
public sealed class EnrolmentOptions
{
    public const string Section = "Server:Enrolment";

    /// <summary>
    /// Let a daemon enrol without a join token (it still gets, and must then use, its own credential). For a machine
    /// of one's own: the in-process `federated run` sets it; beyond loopback it is logged as a warning at start.
    /// </summary>
    public bool Open { get; set; }

    /// <summary>
    /// Enrolments each client (or, before it has a credential, each address: a site behind one NAT shares it) may
    /// make per minute, in bursts of as many; 0: no limit. Every limit here is a token bucket holding a minute's calls.
    /// </summary>
    [Range(0, 1_000_000)]
    public int EnrolPerMinute { get; set; } = 60;

    /// <summary>Task polls per client per minute (a daemon holds each poll up to 20 s, so it makes a few).</summary>
    [Range(0, 1_000_000)]
    public int PollPerMinute { get; set; } = 600;

    /// <summary>Heartbeats per client per minute (a daemon sends one every 10 s by default).</summary>
    [Range(0, 1_000_000)]
    public int HeartbeatPerMinute { get; set; } = 600;

    /// <summary>Uploads per client per minute (one per task, and its retries).</summary>
    [Range(0, 1_000_000)]
    public int UploadPerMinute { get; set; } = 120;
}
