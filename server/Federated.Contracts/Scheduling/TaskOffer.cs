namespace Federated.Contracts.Scheduling;

/// <summary>The answer to a request for work: a task or none, and the scheduler's version to wait on.</summary>
[GenerateSerializer]
[Immutable]
public sealed record TaskOffer(
    [property: Id(0)] TaskAssignment? Task,
    [property: Id(1)] long Version,
    [property: Id(2)] string Reason);
