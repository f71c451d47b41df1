using Federated.Core.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Training;

public class AdamWOptimizerTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public void Steps_match_TorchSharps_AdamW(double weightDecay)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(11);
        var start = new[] { randn(4, 3), randn(5) };
        var ours = start.Select(t => new Parameter(t.clone(), requires_grad: true)).ToList();
        var theirs = start.Select(t => new Parameter(t.clone(), requires_grad: true)).ToList();
        using var optimizer = new AdamWOptimizer(ours, weightDecay);
        using var reference = optim.AdamW(theirs, lr: 0.05, weight_decay: weightDecay);
        var rates = new[] { 0.05, 0.02, 0.05, 0.01, 0.03 };
        for (int step = 0; step < rates.Length; step++)
        {
            var gradients = start.Select(t => randn(t.shape)).ToList();
            optimizer.ZeroGradients();
            reference.zero_grad();
            for (int i = 0; i < start.Length; i++)
            {
                (ours[i] * gradients[i]).sum().backward();
                (theirs[i] * gradients[i]).sum().backward();
            }
            foreach (var group in reference.ParamGroups)
                group.LearningRate = rates[step];
            optimizer.Step(rates[step]);
            reference.step();
        }
        Assert.Equal(rates.Length, optimizer.Steps);
        for (int i = 0; i < start.Length; i++)
        {
            Assert.True(ours[i].allclose(theirs[i], rtol: 1e-6, atol: 1e-7), $"parameter {i}: {ours[i].sub(theirs[i]).abs().max().item<float>()} apart");
            Assert.False(ours[i].allclose(start[i], rtol: 1e-3, atol: 1e-3), "the parameters did not move");
        }
    }

    [Fact]
    public void Parameters_without_gradients_are_left_alone_and_bad_settings_are_refused()
    {
        using var scope = NewDisposeScope();
        var parameter = new Parameter(ones(3), requires_grad: true);
        using var optimizer = new AdamWOptimizer([parameter], weightDecay: 0.5);
        optimizer.Step(0.1);
        Assert.Equal([1f, 1f, 1f], parameter.data<float>().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamWOptimizer([parameter], beta1: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamWOptimizer([parameter], epsilon: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamWOptimizer([parameter], weightDecay: double.NaN));
    }
}
