namespace Federated.Core.Scheduling;

/// <summary>
/// Work handed to a client: train <see cref="LocalSteps"/> steps starting from global version
/// <see cref="StartVersion"/>. Times are seconds on the caller's clock (virtual or wall).
/// </summary>
public sealed record ScheduledTask(
    long TaskId,
    string ClientId,
    int LocalSteps,
    long StartVersion,
    double IssuedAt,
    double? Deadline,
    int? Rank,
    long? GroupId);
