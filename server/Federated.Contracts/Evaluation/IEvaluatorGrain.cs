namespace Federated.Contracts.Evaluation;

/// <summary>Evaluates a job's global model on its held-out data after each round (key: job id).</summary>
public interface IEvaluatorGrain : IGrainWithStringKey
{
    /// <summary>Evaluates the base plus the updates of rounds 1..<paramref name="round"/> and records the result on the job.</summary>
    [OneWay]
    Task Evaluate(int round);
}
