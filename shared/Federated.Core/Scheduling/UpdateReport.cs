namespace Federated.Core.Scheduling;

/// <summary>
/// A client's update for one task has arrived at <see cref="Now"/>. <see cref="ComputeSecondsPerStep"/> is the
/// client's own measure of its training time per step; when given, the rest of the time since hand-out counts as
/// network time and the two are estimated separately.
/// </summary>
public sealed record UpdateReport(string ClientId, long TaskId, double Now, long Samples, double? ComputeSecondsPerStep = null);
