namespace Federated.Core.Scheduling.Simulation;

/// <summary>
/// The simulator's clock for the task ledger: virtual time counted in whole ticks (100 ns) since
/// <see cref="Origin"/>, so clock values, task deadlines and the policy's seconds convert to one another exactly.
/// </summary>
public sealed class VirtualClock : TimeProvider
{
    public static readonly DateTimeOffset Origin = DateTimeOffset.UnixEpoch;

    public long Ticks { get; set; }

    public double Seconds => (double)Ticks / TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow() => Origin.AddTicks(Ticks);

    public static long TicksOf(DateTimeOffset time) => (time - Origin).Ticks;

    public static long DurationTicks(double seconds) => (long)Math.Round(seconds * TimeSpan.TicksPerSecond);
}
