namespace Federated.Core.Model;

/// <summary>LoRA hyper-parameters of one adapter: rank r, alpha (the update is scaled by alpha / r), dropout on the LoRA input.</summary>
public sealed record LoraSettings(int Rank, double Alpha, double Dropout = 0.0)
{
    public double Scaling => Alpha / Rank;

    public void Validate()
    {
        if (Rank <= 0)
            throw new ArgumentException($"LoRA rank must be positive, got {Rank}");
        if (!(Alpha > 0) || !double.IsFinite(Alpha))
            throw new ArgumentException($"LoRA alpha must be positive and finite, got {Alpha}");
        if (!(Dropout >= 0 && Dropout < 1))
            throw new ArgumentException($"LoRA dropout must be in [0, 1), got {Dropout}");
    }
}
