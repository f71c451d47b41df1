namespace Federated.Simulations.Compare;

/// <summary>
/// Held-out metrics of the global model after one aggregation (version 0: before any), at the aggregation's
/// virtual time, with the bytes moved so far (adapters downloaded and uploaded) and the aggregation's staleness.
/// </summary>
public sealed record EvaluationPoint(
    double VirtualTime,
    long Version,
    double Loss,
    double TokenAccuracy,
    double ExactMatch,
    long BytesMoved,
    int Updates,
    double MeanStaleness);
