using Federated.Core.Data;
using Federated.Core.Model;
using Federated.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Training;

public class TrainingFeaturesTests
{
    private static readonly IReadOnlyList<TokenizedExample> Examples = TokenizedExample.FromAll(SyntheticSkills.Generate(200, 3, DataSplit.Train), 64);

    /// <summary>Eight examples of different lengths, so a batch of them is padded.</summary>
    private static IReadOnlyList<TokenizedExample> MixedLengths()
    {
        var batch = Examples.GroupBy(e => e.Tokens.Length).Select(g => g.First()).Take(8).ToList();
        Assert.True(batch.Select(e => e.Tokens.Length).Distinct().Count() >= 4, "need examples of several lengths");
        return batch;
    }

    private static LlamaForCausalLM Model(double dropout = 0, LlamaConfig? config = null)
    {
        var model = config is null ? BuiltinModels.Create(BuiltinModels.Tiny, CPU) : BuiltinModels.Create(config, "test", CPU);
        model.AttachLora(new LoraSettings(4, 8, dropout), TargetModules.All, seed: 3);
        using var noGrad = no_grad();
        foreach (var parameter in model.LoraParameters())
            parameter.add_(0.05); // B starts at zero; move it so every gradient path is exercised
        model.train();
        return model;
    }

    private static (double Loss, float[][] Grads) Gradients(LlamaForCausalLM model, IReadOnlyList<TokenizedExample> batch, int microBatches)
    {
        foreach (var parameter in model.LoraParameters())
            parameter.grad?.zero_();
        var (loss, _) = LoraTrainer.Backward(model, batch, microBatches);
        return (loss, model.LoraParameters().Select(p => p.grad!.data<float>().ToArray()).ToArray());
    }

    private static void AssertClose(float[][] expected, float[][] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            var scale = expected[i].Max(Math.Abs) + 1e-6;
            var worst = expected[i].Zip(actual[i], (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst <= tolerance * scale, $"gradient {i}: difference {worst} against magnitude {scale}");
        }
        Assert.Contains(expected, g => g.Any(v => v != 0));
    }

    [Fact]
    public void A_padded_batch_gives_the_loss_and_gradients_of_its_examples_one_by_one()
    {
        using var model = Model();
        var batch = MixedLengths();
        var (paddedLoss, padded) = Gradients(model, batch, microBatches: 1);
        var (singleLoss, single) = Gradients(model, batch, microBatches: batch.Count);
        Assert.Equal(singleLoss, paddedLoss, 5);
        AssertClose(single, padded, 1e-4);
    }

    [Fact]
    public void Accumulated_micro_batches_give_the_whole_batch_gradient()
    {
        using var model = Model();
        var batch = MixedLengths();
        var (wholeLoss, whole) = Gradients(model, batch, microBatches: 1);
        var (accumulatedLoss, accumulated) = Gradients(model, batch, microBatches: 3);
        Assert.Equal(wholeLoss, accumulatedLoss, 5);
        AssertClose(whole, accumulated, 1e-4);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.2)]
    public void Gradient_checkpointing_gives_the_same_gradients(double dropout)
    {
        using var model = Model(dropout);
        var batch = MixedLengths();
        model.SeedDropout(17);
        var (plainLoss, plain) = Gradients(model, batch, 2);
        model.GradientCheckpointing = true;
        model.SeedDropout(17);
        var (checkpointedLoss, checkpointed) = Gradients(model, batch, 2);
        Assert.Equal(plainLoss, checkpointedLoss, 6);
        AssertClose(plain, checkpointed, 1e-5);
    }

    [Fact]
    public void Training_with_every_feature_on_is_bit_identical_under_a_seed()
    {
        var options = new TrainingOptions { Steps = 6, BatchSize = 8, GradientAccumulationSteps = 3, GradientCheckpointing = true, Seed = 5, WarmupSteps = 2 };
        float[][] Run()
        {
            using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
            model.AttachLora(new LoraSettings(4, 8, 0.1), TargetModules.All, seed: 9);
            LoraTrainer.Train(model, Examples, options);
            return model.ExportLora().Modules.Values.SelectMany(f => new[] { f.A.Data, f.B.Data }).ToArray();
        }
        var first = Run();
        var second = Run();
        Assert.Equal(first.Length, second.Length);
        for (int i = 0; i < first.Length; i++)
            Assert.Equal(first[i], second[i]);
        Assert.Contains(first, values => values.Any(v => v != 0));
    }

    [Fact]
    public void Grouping_by_length_pads_less_and_still_visits_every_example()
    {
        var lengths = Examples.Select(e => e.Tokens.Length).ToList();
        long Padding(bool group, HashSet<int> seen)
        {
            var order = new BatchOrder(lengths, 4, group);
            long padding = 0;
            for (int b = 0; b < 2 * Examples.Count / 8; b++)
            {
                var batch = order.Next(8);
                Assert.Equal(8, batch.Length);
                seen.UnionWith(batch);
                var longest = batch.Max(i => lengths[i]);
                padding += batch.Sum(i => longest - lengths[i]);
            }
            return padding;
        }
        var groupedSeen = new HashSet<int>();
        var grouped = Padding(true, groupedSeen);
        var plain = Padding(false, []);
        Assert.True(grouped * 3 < plain, $"padding {grouped} grouped vs {plain} shuffled");
        Assert.Equal(Examples.Count, groupedSeen.Count);
    }

    [Fact]
    public void Gradient_clipping_bounds_the_global_norm()
    {
        using var model = Model();
        var parameters = model.LoraParameters();
        Gradients(model, MixedLengths(), 1);
        using var scope = NewDisposeScope();
        var before = stack(parameters.Select(p => p.grad!.norm()).ToList()).norm().item<float>();
        Assert.True(before > 0.02, $"gradient norm {before} too small to clip");
        nn.utils.clip_grad_norm_(parameters, 0.01);
        var after = stack(parameters.Select(p => p.grad!.norm()).ToList()).norm().item<float>();
        Assert.Equal(0.01, after, 4);
    }

    [Theory]
    [InlineData(ScalarType.BFloat16, 1.0)]
    [InlineData(ScalarType.Float16, 1024.0)]
    public void Half_precision_products_give_f32_lora_gradients_close_to_f32_ones(ScalarType type, double lossScale)
    {
        // The arithmetic of CUDA's bf16/fp16 training run on CPU, which has kernels for both formats: the frozen
        // products in the half format on cached copies of the weights, LoRA factors and their gradients in f32,
        // the fp16 loss scaled up before the backward pass (and the gradients down after it).
        using var model = Model();
        var batch = Examples.Take(4).ToList();
        var (lossF32, f32) = Gradients(model, batch, 1);
        foreach (var parameter in model.LoraParameters())
            parameter.grad!.zero_();
        model.ComputeType = type;
        try
        {
            var (lossHalf, _) = LoraTrainer.Backward(model, batch, 1, lossScale);
            Assert.All(model.LoraParameters(), p => Assert.Equal((ScalarType.Float32, ScalarType.Float32), (p.dtype, p.grad!.dtype)));
            var half = model.LoraParameters().Select(p => p.grad!.data<float>().Select(g => (float)(g / lossScale)).ToArray()).ToArray();
            Assert.True(Math.Abs(lossHalf - lossF32) < 0.01 * lossF32, $"loss {lossHalf} in {type} vs {lossF32} in f32");
            Assert.NotEqual(lossF32, lossHalf); // the products really ran in the half format
            for (int i = 0; i < f32.Length; i++)
            {
                double dot = 0, a = 0, b = 0;
                for (int j = 0; j < f32[i].Length; j++)
                {
                    dot += (double)f32[i][j] * half[i][j];
                    a += (double)f32[i][j] * f32[i][j];
                    b += (double)half[i][j] * half[i][j];
                }
                var cosine = dot / Math.Sqrt(a * b);
                Assert.True(cosine > 0.99, $"LoRA gradient {i}: cosine {cosine:F4} between {type} and f32");
                Assert.InRange(Math.Sqrt(b / a), 0.95, 1.05);
            }
        }
        finally
        {
            model.ComputeType = null;
        }
        // Back in f32 (the cached copies dropped), the gradients are f32's again.
        var (_, again) = Gradients(model, batch, 1);
        AssertClose(f32, again, 1e-6);
    }

    [Fact]
    public void Precision_auto_is_f32_on_CPU_and_half_formats_there_are_refused_by_name()
    {
        Assert.Equal(TrainingPrecision.F32, TrainingPrecision.Auto.Resolve(CPU));
        Assert.Equal(TrainingPrecision.F32, TrainingPrecision.F32.Resolve(CPU));
        foreach (var half in new[] { TrainingPrecision.Bf16, TrainingPrecision.Fp16 })
        {
            var error = Assert.Throws<ArgumentException>(() => half.Resolve(CPU));
            Assert.Contains(half.Name(), error.Message);
            Assert.Contains("CUDA", error.Message);
            using var model = Model();
            var refused = Assert.Throws<ArgumentException>(() => LoraTrainer.Train(model, Examples, new TrainingOptions { Steps = 1, Precision = half }));
            Assert.Contains("f32", refused.Message);
        }
        Assert.Equal(TrainingPrecision.Bf16, TrainingPrecisions.Parse("BF16"));
        var unknown = Assert.Throws<ArgumentException>(() => TrainingPrecisions.Parse("fp8", "hyperparameters.precision"));
        Assert.Contains("hyperparameters.precision", unknown.Message);
        Assert.Contains("fp8", unknown.Message);
    }

    [Fact]
    public void A_bf16_compute_type_keeps_f32_outputs_and_gradients_close_to_f32()
    {
        using var model = Model();
        var batch = MixedLengths();
        var (f32Loss, f32) = Gradients(model, batch, 1);
        model.ComputeType = ScalarType.BFloat16;
        var (bf16Loss, bf16) = Gradients(model, batch, 1);
        model.ComputeType = null;
        Assert.True(Math.Abs(f32Loss - bf16Loss) < 0.02 * f32Loss, $"loss {f32Loss} in f32, {bf16Loss} in bf16");
        Assert.All(model.LoraParameters(), p => Assert.Equal(ScalarType.Float32, p.grad!.dtype));
        AssertClose(f32, bf16, 0.1);
        var (againLoss, _) = Gradients(model, batch, 1);
        Assert.Equal(f32Loss, againLoss, 6);
    }

    [Fact]
    public void Chunked_cross_entropy_matches_the_whole_logits_loss_and_gradient()
    {
        using var scope = NewDisposeScope();
        var weight = randn([50, 16], generator: new Generator(4));
        var targets = tensor(new long[] { 3, -100, 49, 0, 7, 7, -100, 12, 30, 1, 2 });
        Tensor Hidden() => randn([11, 16], generator: new Generator(5)).requires_grad_(true);
        var expectedHidden = Hidden();
        var expected = nn.functional.cross_entropy(nn.functional.linear(expectedHidden, weight), targets, ignore_index: Batch.IgnoreIndex, reduction: nn.Reduction.Sum);
        expected.mul(0.5).backward();
        var chunkedHidden = Hidden();
        var chunked = ChunkedCrossEntropy.Sum(chunkedHidden, weight, targets, chunkRows: 4);
        chunked.mul(0.5).backward();
        Assert.Equal(expected.item<float>(), chunked.item<float>(), 3);
        Assert.True(expectedHidden.grad!.allclose(chunkedHidden.grad!, rtol: 1e-4, atol: 1e-6), "gradients of the hidden states differ");
        Assert.Equal(0f, chunkedHidden.grad!.narrow(0, 1, 1).abs().sum().item<float>());
        var error = Assert.Throws<ArgumentException>(() => ChunkedCrossEntropy.Sum(randn(11, 8), weight, targets));
        Assert.Contains("[11, 8]", error.Message);
    }

    [Fact]
    public void Dynamic_loss_scale_halves_on_overflow_and_grows_after_good_steps()
    {
        var scale = new DynamicLossScale(1024, growthInterval: 3);
        Assert.False(scale.Update(finite: false));
        Assert.Equal(512, scale.Scale);
        Assert.True(scale.Update(true));
        Assert.True(scale.Update(true));
        Assert.Equal(512, scale.Scale);
        Assert.True(scale.Update(true));
        Assert.Equal(1024, scale.Scale);
        Assert.Equal(1, scale.SkippedSteps);
    }

    [Fact]
    public void Accumulation_beyond_the_batch_is_refused_by_name()
    {
        var error = Assert.Throws<ArgumentException>(() => new TrainingOptions { BatchSize = 4, GradientAccumulationSteps = 5 }.Validate());
        Assert.Contains("GradientAccumulationSteps", error.Message);
    }
}
