namespace Federated.Core.Model;

/// <summary>
/// Llama 3.1's rope_scaling (rope_type "llama3"): low rotary frequencies, whose wavelengths exceed the
/// original context, are divided by <see cref="Factor"/>; high ones stay; those between are blended.
/// </summary>
public sealed record Llama3RopeScaling(double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositionEmbeddings)
{
    /// <summary>Throws naming the first field that makes no valid scaling.</summary>
    public void Validate()
    {
        if (!(Factor > 0))
            throw new ArgumentException($"rope_scaling factor must be positive, got {Factor}");
        if (!(LowFreqFactor > 0) || !(HighFreqFactor > LowFreqFactor))
            throw new ArgumentException($"rope_scaling needs 0 < low_freq_factor < high_freq_factor, got {LowFreqFactor} and {HighFreqFactor}");
        if (OriginalMaxPositionEmbeddings <= 0)
            throw new ArgumentException($"rope_scaling original_max_position_embeddings must be positive, got {OriginalMaxPositionEmbeddings}");
    }

    /// <summary>Applies the adjustment to one inverse frequency (radians per position).</summary>
    public double Adjust(double inverseFrequency)
    {
        var wavelength = 2 * Math.PI / inverseFrequency;
        var lowFreqWavelength = OriginalMaxPositionEmbeddings / LowFreqFactor;
        var highFreqWavelength = OriginalMaxPositionEmbeddings / HighFreqFactor;
        if (wavelength < highFreqWavelength)
            return inverseFrequency;
        if (wavelength > lowFreqWavelength)
            return inverseFrequency / Factor;
        var smooth = (OriginalMaxPositionEmbeddings / wavelength - LowFreqFactor) / (HighFreqFactor - LowFreqFactor);
        return (1 - smooth) * inverseFrequency / Factor + smooth * inverseFrequency;
    }
}
