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

        var precision = options.Precision.Resolve(model.Device);
        var lossScale = precision == TrainingPrecision.Fp16 ? new DynamicLossScale() : null;
        var stopwatch = Stopwatch.StartNew();
        var order = new BatchOrder(examples.Select(e => e.Tokens.Length).ToList(), options.Seed, options.GroupByLength);
        using var optimizer = new AdamWOptimizer(parameters, options.WeightDecay);
        model.train();
        model.SeedDropout(DeterministicRandom.Mix(options.Seed, "lora-dropout"));
        model.ComputeType = precision.ComputeType();
        model.GradientCheckpointing = options.GradientCheckpointing;
        try
        {
            double first = double.NaN, sum = 0, tail = 0;
            int tailCount = 0, tailStart = options.Steps - Math.Max(1, options.Steps / 10);
            long tokens = 0;
            for (int step = 0; step < options.Steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var batch = order.Next(options.BatchSize).Select(i => examples[i]).ToList();
                var (loss, count) = Step(model, optimizer, parameters, batch, options, options.LearningRateAt(step), lossScale);
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
            return new TrainingReport(options.Steps, first, sum / options.Steps, tail / tailCount, tokens, stopwatch.Elapsed.TotalSeconds);
        }
        finally
        {
            model.GradientCheckpointing = false;
            model.ComputeType = null;
            model.eval();
        }
    }

    /// <summary>
    /// Accumulates into the LoRA factors' gradients those of the batch's summed cross-entropy divided by its
    /// number of target tokens, computed in <paramref name="microBatches"/> slices, each padded to its own
    /// longest example and freed before the next; with gradient checkpointing the loss runs through
    /// <see cref="ChunkedCrossEntropy"/>. Returns the loss (unscaled) and the target count.
    /// </summary>
    public static (double Loss, long Count) Backward(LlamaForCausalLM model, IReadOnlyList<TokenizedExample> batch, int microBatches = 1, double lossScale = 1)
    {
        if (microBatches < 1 || microBatches > batch.Count)
            throw new ArgumentException($"cannot split a batch of {batch.Count} examples into {microBatches} micro-batches", nameof(microBatches));
        long total = batch.Sum(Batch.TargetCount);
        double loss = 0;
        int start = 0;
        for (int micro = 0; micro < microBatches; micro++)
        {
            var size = batch.Count / microBatches + (micro < batch.Count % microBatches ? 1 : 0);
            using var scope = NewDisposeScope();
            var (inputs, targets, _) = Batch.Create(batch.Skip(start).Take(size).ToList(), model.Device);
            start += size;
            Tensor summed;
            if (model.GradientCheckpointing && model.ComputeType is null)
            {
                // Saving memory: the frozen head's loss also runs in row chunks, so the logits never exist whole.
                var hidden = model.Hidden(inputs);
                summed = ChunkedCrossEntropy.Sum(hidden.reshape(-1, hidden.shape[^1]), model.HeadWeight, targets.view(-1));
            }
            else
            {
                var logits = model.forward(inputs);
                summed = nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]).to(ScalarType.Float32), targets.view(-1), ignore_index: Batch.IgnoreIndex, reduction: nn.Reduction.Sum);
            }
            using var targetCount = Math.Max(1, total).ToScalar();
            using var scale = lossScale.ToScalar();
            var normalised = summed.div(targetCount);
            (lossScale == 1 ? normalised : normalised.mul(scale)).backward();
            loss += normalised.item<float>();
        }
        return (loss, total);
    }

    private static (double Loss, long Count) Step(LlamaForCausalLM model, AdamWOptimizer optimizer, IReadOnlyList<TorchSharp.Modules.Parameter> parameters, IReadOnlyList<TokenizedExample> batch, TrainingOptions options, double learningRate, DynamicLossScale? lossScale)
    {
        optimizer.ZeroGradients();
        var result = Backward(model, batch, Math.Min(options.GradientAccumulationSteps, batch.Count), lossScale?.Scale ?? 1);
        using var scope = NewDisposeScope();
        var grads = parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        if (lossScale is not null)
        {
            using var scale = lossScale.Scale.ToScalar();
            foreach (var grad in grads)
                grad.div_(scale);
            var finite = grads.Count == 0 || stack(grads.Select(g => g.norm()).ToList()).sum().isfinite().item<bool>();
            if (!lossScale.Update(finite))
                return result;
        }
        if (options.MaxGradNorm > 0)
            nn.utils.clip_grad_norm_(parameters, options.MaxGradNorm);
        optimizer.Step(learningRate);
        return result;
    }
}
