namespace Federated.Contracts.Jobs;

/// <summary>Held-out metrics of a global model (see Federated.Core.Training.EvaluationResult).</summary>
[GenerateSerializer]
[Immutable]
public sealed record EvaluationSummary(
    [property: Id(0)] double Loss,
    [property: Id(1)] double TokenAccuracy,
    [property: Id(2)] double ExactMatch,
    [property: Id(3)] int Examples);
