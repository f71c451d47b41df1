using Federated.Core.Model;
using Federated.Core.Randomness;
using static TorchSharp.torch;

namespace Federated.Core.Generation;

/// <summary>Autoregressive decoding: greedy at temperature 0, otherwise sampling from softmax(logits / T).</summary>
public static class TokenGenerator
{
    /// <summary>
    /// Up to <paramref name="maxTokens"/> new token ids after <paramref name="prompt"/>; stops early at an end-of-sequence
    /// token of the model's config (which is returned) or when the model's positions run out.
    /// </summary>
    public static IReadOnlyList<int> Generate(LlamaForCausalLM model, IReadOnlyList<int> prompt, int maxTokens, double temperature = 0, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        if (!(temperature >= 0))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be 0 (greedy) or positive");
        if (prompt.Count == 0)
            throw new ArgumentException("the prompt needs at least one token", nameof(prompt));
        var vocab = model.Config.VocabSize;
        foreach (var id in prompt)
        {
            if (id < 0 || id >= vocab)
                throw new ArgumentException($"prompt token id {id} is outside the model's vocabulary 0..{vocab - 1}", nameof(prompt));
        }

        var random = new DeterministicRandom(seed);
        var generated = new List<int>(maxTokens);
        var maxPositions = model.Config.MaxPositionEmbeddings;
        if (maxTokens == 0 || prompt.Count >= maxPositions)
            return generated;
        using var noGrad = no_grad();
        // Prompt and generated tokens together fill at most every position; the last token generated is never fed back.
        using var cache = new KeyValueCache(model.Config, Math.Min(maxPositions, prompt.Count + maxTokens) - 1, model.Device);
        // The prompt goes in as one prefill; then each new token alone, attending to the cache.
        var input = prompt.Select(t => (long)t).ToArray();
        while (true)
        {
            float[] logits;
            using (NewDisposeScope())
            {
                var output = model.ForwardCached(tensor(input, [1, input.Length], device: model.Device), cache);
                logits = output[0, -1].to(ScalarType.Float32).cpu().data<float>().ToArray();
            }
            var next = temperature == 0 ? ArgMax(logits) : Sample(logits, temperature, random);
            generated.Add(next);
            if (model.Config.EosTokenIds.Contains(next) || generated.Count == maxTokens || cache.Length + 1 == maxPositions)
                break;
            input = [next];
        }
        return generated;
    }

    /// <summary>The first index of the largest value.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
                best = i;
        }
        return best;
    }

    /// <summary>An index drawn from softmax(logits / temperature) with <paramref name="random"/>.</summary>
    public static int Sample(float[] logits, double temperature, DeterministicRandom random)
    {
        var max = logits.Max();
        var weights = logits.Select(l => Math.Exp((l - max) / temperature)).ToArray();
        var target = random.NextDouble() * weights.Sum();
        double cumulative = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            cumulative += weights[i];
            if (target < cumulative)
                return i;
        }
        return ArgMax(logits);
    }
}
