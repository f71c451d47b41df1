namespace Federated.Core.Training;

/// <summary>
/// Dynamic loss scaling for fp16 training (Micikevicius et al., 2018): the loss is multiplied by
/// <see cref="Scale"/> before the backward pass so small gradients do not underflow; a step whose gradients
/// overflow is skipped and the scale halved; after <see cref="GrowthInterval"/> good steps in a row it doubles.
/// </summary>
public sealed class DynamicLossScale(double initialScale = 65536, int growthInterval = 2000)
{
    public double Scale { get; private set; } = initialScale;

    public int GrowthInterval { get; } = growthInterval;

    public int SkippedSteps { get; private set; }

    private int _goodSteps;

    /// <summary>Records whether the unscaled gradients were all finite; returns whether the optimizer may step.</summary>
    public bool Update(bool finite)
    {
        if (!finite)
        {
            Scale = Math.Max(1, Scale / 2);
            _goodSteps = 0;
            SkippedSteps++;
            return false;
        }
        if (++_goodSteps == GrowthInterval)
        {
            Scale *= 2;
            _goodSteps = 0;
        }
        return true;
    }
}
