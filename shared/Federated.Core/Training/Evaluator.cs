using Federated.Core.Data;
using Federated.Core.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Federated.Core.Training;

/// <summary>Measures a model on held-out examples with teacher forcing, in batches without gradients.</summary>
public static class Evaluator
{
    public static EvaluationResult Evaluate(LlamaForCausalLM model, IReadOnlyList<TokenizedExample> examples, int batchSize = 64)
    {
        if (examples.Count == 0)
            throw new ArgumentException("no evaluation examples", nameof(examples));
        model.eval();
        using var noGrad = no_grad();
        double lossSum = 0;
        long tokens = 0, correctTokens = 0;
        int exact = 0;
        // Held explicitly: an implicit Scalar can be finalized during the native call that uses it.
        using var ignored = Batch.IgnoreIndex.ToScalar();
        using var none = 0L.ToScalar();
        for (int start = 0; start < examples.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = examples.Skip(start).Take(batchSize).ToList();
            var (inputs, targets, count) = Batch.Create(batch, model.Device);
            var logits = model.forward(inputs);
            var flatLogits = logits.view(-1, logits.shape[^1]);
            lossSum += nn.functional.cross_entropy(flatLogits, targets.view(-1), ignore_index: Batch.IgnoreIndex, reduction: nn.Reduction.Sum).item<float>();
            tokens += count;
            var mask = targets.ne(ignored);
            var hits = logits.argmax(-1).eq(targets).logical_and(mask);
            correctTokens += hits.sum().item<long>();
            var wrongPerRow = mask.logical_and(hits.logical_not()).sum(1);
            exact += (int)wrongPerRow.eq(none).sum().item<long>();
        }
        return new EvaluationResult(lossSum / tokens, (double)correctTokens / tokens, (double)exact / examples.Count, examples.Count, tokens);
    }
}
