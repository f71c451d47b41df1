using System.Diagnostics;
using Federated.Core.Data;
using Federated.Core.Model;
using Federated.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace Federated.Core.Training;

/// <summary>
/// Trains a model's LoRA branches with AdamW (Loshchilov and Hutter, 2019) on next-token cross-entropy over
/// completion tokens. Each step runs inside its own dispose scope on the calling thread, so native memory
/// stays flat however many steps run.
/// </summary>
public static class LoraTrainer
{
    public static TrainingReport Train(
        LlamaForCausalLM model,
        IReadOnlyList<TokenizedExample> examples,
        TrainingOptions options,
        Action<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options.Validate();
        if (examples.Count == 0)
            throw new ArgumentException("no training examples", nameof(examples));
        var parameters = model.LoraParameters();
        if (parameters.Count == 0)
            throw new InvalidOperationException("the model has no LoRA branches: attach them before training");

        var stopwatch = Stopwatch.StartNew();
        var order = new BatchOrder(examples.Count, options.Seed);
        using var optimizer = optim.AdamW(parameters, lr: options.LearningRate, weight_decay: options.WeightDecay);
        model.train();
        double first = double.NaN, sum = 0, tail = 0;
        int tailCount = 0, tailStart = options.Steps - Math.Max(1, options.Steps / 10);
        long tokens = 0;
        for (int step = 0; step < options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = options.LearningRateAt(step);
            var batch = order.Next(options.BatchSize).Select(i => examples[i]).ToList();
            var (loss, count) = Step(model, optimizer, parameters, batch, options.MaxGradNorm);
            if (!double.IsFinite(loss))
                throw new InvalidOperationException($"training diverged: loss is {loss} at step {step + 1}; lower the learning rate");
            tokens += count;
            if (step == 0)
                first = loss;
            sum += loss;
            if (step >= tailStart)
            {
                tail += loss;
                tailCount++;
            }
            progress?.Invoke(new TrainingProgress(step + 1, options.Steps, loss));
        }
        model.eval();
        return new TrainingReport(options.Steps, first, sum / options.Steps, tail / tailCount, tokens, stopwatch.Elapsed.TotalSeconds);
    }

    private static (double Loss, long Count) Step(LlamaForCausalLM model, optim.Optimizer optimizer, IReadOnlyList<TorchSharp.Modules.Parameter> parameters, IReadOnlyList<TokenizedExample> batch, double maxGradNorm)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var (inputs, targets, count) = Batch.Create(batch, model.Device);
        var logits = model.forward(inputs);
        var loss = nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), targets.view(-1), ignore_index: Batch.IgnoreIndex);
        loss.backward();
        if (maxGradNorm > 0)
            nn.utils.clip_grad_norm_(parameters, maxGradNorm);
        optimizer.step();
        return (loss.item<float>(), count);
    }

    /// <summary>Epochs of seeded shuffles; batches run across epoch ends.</summary>
    private sealed class BatchOrder(int count, ulong seed)
    {
        private readonly DeterministicRandom _random = new(seed);
        private int[] _order = [];
        private int _position;

        public IEnumerable<int> Next(int size)
        {
            var result = new int[Math.Min(size, count)];
            for (int i = 0; i < result.Length; i++)
            {
                if (_position == _order.Length)
                    Shuffle();
                result[i] = _order[_position++];
            }
            return result;
        }

        private void Shuffle()
        {
            _order = Enumerable.Range(0, count).ToArray();
            for (int i = _order.Length - 1; i > 0; i--)
            {
                var j = (int)(_random.NextUInt64() % (ulong)(i + 1));
                (_order[i], _order[j]) = (_order[j], _order[i]);
            }
            _position = 0;
        }
    }
}
