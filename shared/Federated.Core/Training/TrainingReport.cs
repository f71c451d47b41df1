namespace Federated.Core.Training;

/// <summary>What a local training run did: losses over its steps and how long it took.</summary>
public sealed record TrainingReport(int Steps, double FirstLoss, double MeanLoss, double FinalLoss, long Tokens, double Seconds)
{
    public double SecondsPerStep => Steps == 0 ? 0 : Seconds / Steps;
}

/// <summary>Progress of a run, reported after each step.</summary>
public readonly record struct TrainingProgress(int Step, int Steps, double Loss);
