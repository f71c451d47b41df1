namespace Federated.Client.Transport;

/// <summary>
/// Deadlines of the client's gRPC calls. gRPC enforces a deadline on the real clock and sends it to the server as
/// the time remaining (the grpc-timeout header), so a deadline is real time by nature and reads the system clock
/// here, the client's one such place; the waits the client chooses itself (backoff, heartbeats, retry-after)
/// run on the injected <see cref="TimeProvider"/>.
/// </summary>
public static class CallDeadline
{
    public static DateTime After(TimeSpan timeout) => DateTime.UtcNow + timeout;
}
