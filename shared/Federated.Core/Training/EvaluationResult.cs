namespace Federated.Core.Training;

/// <summary>
/// Held-out metrics: mean cross-entropy per completion token, the share of completion tokens predicted
/// correctly, and exact match (every completion token correct, which is what greedy decoding would produce).
/// </summary>
public sealed record EvaluationResult(double Loss, double TokenAccuracy, double ExactMatch, int Examples, long Tokens);
