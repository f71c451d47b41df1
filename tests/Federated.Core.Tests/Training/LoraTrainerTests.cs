using Federated.Core.Data;
using Federated.Core.Model;
using Federated.Core.Training;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Training;

public class LoraTrainerTests
{
    private static readonly IReadOnlyList<TokenizedExample> Train = TokenizedExample.FromAll(SyntheticSkills.Generate(400, 1, DataSplit.Train), 64);
    private static readonly IReadOnlyList<TokenizedExample> Test = TokenizedExample.FromAll(SyntheticSkills.Generate(100, 2, DataSplit.Test), 64);

    [Fact]
    public void Training_LoRA_lowers_held_out_loss()
    {
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        var before = Evaluator.Evaluate(model, Test);
        model.AttachLora(new LoraSettings(8, 16), TargetModules.All, seed: 1);
        var report = LoraTrainer.Train(model, Train, new TrainingOptions { Steps = 40, LearningRate = 1e-2, WarmupSteps = 5 });
        var after = Evaluator.Evaluate(model, Test);

        Assert.Equal(40, report.Steps);
        Assert.True(report.FinalLoss < report.FirstLoss, $"training loss {report.FirstLoss} → {report.FinalLoss}");
        Assert.True(after.Loss < before.Loss - 1.0, $"held-out loss {before.Loss} → {after.Loss}");
        Assert.True(after.TokenAccuracy > before.TokenAccuracy);
    }

    [Fact]
    public void Only_the_LoRA_factors_change()
    {
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        var fingerprint = model.Fingerprint();
        model.AttachLora(new LoraSettings(4, 8), ["q_proj", "v_proj"], seed: 2);
        LoraTrainer.Train(model, Train, new TrainingOptions { Steps = 5 });
        Assert.Equal(fingerprint, model.Fingerprint());
        Assert.True(model.ExportLora().Modules.Values.Any(f => f.B.Data.Any(v => v != 0)), "B should move away from zero");
    }

    [Fact]
    public void Training_is_deterministic_under_a_seed_on_CPU()
    {
        double Run()
        {
            using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
            model.AttachLora(new LoraSettings(4, 8), TargetModules.All, seed: 7);
            return LoraTrainer.Train(model, Train, new TrainingOptions { Steps = 8, Seed = 11 }).MeanLoss;
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Training_without_a_LoRA_branch_is_refused()
    {
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        Assert.Throws<InvalidOperationException>(() => LoraTrainer.Train(model, Train, new TrainingOptions { Steps = 1 }));
    }

    [Theory]
    [InlineData(0, 16, 1e-3, "Steps")]
    [InlineData(10, 0, 1e-3, "BatchSize")]
    [InlineData(10, 16, -1.0, "LearningRate")]
    public void Invalid_options_are_refused_by_name(int steps, int batch, double lr, string field)
    {
        var error = Assert.Throws<ArgumentException>(() => new TrainingOptions { Steps = steps, BatchSize = batch, LearningRate = lr }.Validate());
        Assert.Contains(field, error.Message);
    }

    [Fact]
    public void The_schedule_warms_up_linearly_then_decays_by_cosine()
    {
        var options = new TrainingOptions { Steps = 110, WarmupSteps = 10, LearningRate = 1.0, MinLearningRateRatio = 0.1 };
        Assert.Equal(0.1, options.LearningRateAt(0), 6);
        Assert.Equal(1.0, options.LearningRateAt(9), 6);
        Assert.Equal(1.0, options.LearningRateAt(10), 6);
        Assert.Equal(0.55, options.LearningRateAt(60), 6);
        Assert.Equal(0.1, options.LearningRateAt(110), 6);
    }
}
