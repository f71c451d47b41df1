using Federated.Core.Model;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Model;

public class RopeScalingTests
{
    // Llama 3.1's published values.
    private static readonly Llama3RopeScaling Scaling = new(Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192);

    [Fact]
    public void High_frequencies_stay_low_ones_are_divided_by_the_factor()
    {
        // Wavelengths 2π/f: below 8192/4 = 2048 positions unchanged, above 8192/1 divided by 8.
        var high = 2 * Math.PI / 1000;
        Assert.Equal(high, Scaling.Adjust(high));
        var low = 2 * Math.PI / 20000;
        Assert.Equal(low / 8, Scaling.Adjust(low), 15);
    }

    [Fact]
    public void Frequencies_between_blend_smoothly_from_one_regime_to_the_other()
    {
        var atHighEdge = 2 * Math.PI / 2048;
        var atLowEdge = 2 * Math.PI / 8192;
        Assert.Equal(atHighEdge, Scaling.Adjust(atHighEdge), 12);
        Assert.Equal(atLowEdge / 8, Scaling.Adjust(atLowEdge), 12);
        // Wavelength 4096: smooth = (8192/4096 − 1)/(4 − 1) = 1/3, so f · (2/3 · 1/8 + 1/3).
        var middle = 2 * Math.PI / 4096;
        Assert.Equal(middle * (2.0 / 3 / 8 + 1.0 / 3), Scaling.Adjust(middle), 12);
    }

    [Fact]
    public void Scaling_changes_attention_only_away_from_position_zero()
    {
        var config = new LlamaConfig
        {
            VocabSize = 50, HiddenSize = 32, IntermediateSize = 48, NumLayers = 1, NumHeads = 2, NumKeyValueHeads = 1,
            MaxPositionEmbeddings = 16, RopeTheta = 500000,
        };
        // A short original context puts this model's low frequencies into the scaled range.
        var scaled = config with { RopeScaling = new Llama3RopeScaling(8, 1, 4, 4) };
        using var plain = BuiltinModels.Create(config, "rope", CPU);
        using var adjusted = BuiltinModels.Create(scaled, "rope", CPU);
        Assert.Equal(plain.Fingerprint(), adjusted.Fingerprint());
        using var scope = NewDisposeScope();
        var tokens = tensor(new long[] { 3, 7, 11, 19, 23, 29 }, [1, 6]);
        var a = plain.forward(tokens);
        var b = adjusted.forward(tokens);
        Assert.True(a.narrow(1, 0, 1).allclose(b.narrow(1, 0, 1), rtol: 1e-5, atol: 1e-5));
        Assert.False(a.narrow(1, 5, 1).allclose(b.narrow(1, 5, 1), rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void Invalid_scaling_is_refused_naming_the_field()
    {
        var config = BuiltinModels.Config(BuiltinModels.Tiny) with { RopeScaling = new Llama3RopeScaling(8, 4, 1, 8192) };
        Assert.Contains("low_freq_factor < high_freq_factor", Assert.Throws<ArgumentException>(config.Validate).Message);
    }
}
