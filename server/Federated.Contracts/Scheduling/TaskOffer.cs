namespace Federated.Contracts.Scheduling;

/// <summary>The answer to a request for work: a task or none, and the scheduler's change count to wait on (not a model version).</summary>
[GenerateSerializer]
[Immutable]
public sealed record TaskOffer(
    [property: Id(0)] TaskAssignment? Task,
    [property: Id(1)] long ChangeCount,
    [property: Id(2)] string Reason);
