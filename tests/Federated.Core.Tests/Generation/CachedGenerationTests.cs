using Federated.Core.Generation;
using Federated.Core.Model;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Generation;

/// <summary><see cref="TokenGenerator"/> with its key/value cache decodes what re-running the whole sequence decodes.</summary>
public class CachedGenerationTests
{
    private static readonly LlamaConfig Short = BuiltinModels.Config(BuiltinModels.Tiny) with { MaxPositionEmbeddings = 24, EosTokenIds = [], AttentionBias = true };

    [Fact]
    public void A_long_prompt_is_prefilled_then_decoding_matches_full_recomputation()
    {
        using var model = BuiltinModels.Create(BuiltinModels.Small, CPU);
        int[] prompt = [256, 'O', 'n', 'c', 'e', ' ', 'u', 'p', 'o', 'n'];
        var generated = TokenGenerator.Generate(model, prompt, 30);
        Assert.Equal(UncachedGreedy(model, prompt, 30), generated);
    }

    [Fact]
    public void Generation_stops_when_the_positions_run_out()
    {
        using var model = BuiltinModels.Create(Short, "short", CPU);
        int[] prompt = [256, 'h', 'e', 'y', '!'];
        var generated = TokenGenerator.Generate(model, prompt, 100);
        Assert.Equal(Short.MaxPositionEmbeddings - prompt.Length, generated.Count);
        Assert.Equal(UncachedGreedy(model, prompt, 100), generated);
        // A prompt that fills all but one position still gets its one token; a full one gets none.
        Assert.Single(TokenGenerator.Generate(model, Enumerable.Repeat(7, Short.MaxPositionEmbeddings - 1).ToArray(), 5));
        Assert.Empty(TokenGenerator.Generate(model, Enumerable.Repeat(7, Short.MaxPositionEmbeddings).ToArray(), 5));
    }

    [Fact]
    public void Sampling_draws_the_same_tokens_as_before_the_cache()
    {
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        int[] prompt = [256, 'a', 'b'];
        Assert.Equal(UncachedSampled(model, prompt, 40, temperature: 0.8, seed: 11), TokenGenerator.Generate(model, prompt, 40, temperature: 0.8, seed: 11));
    }

    /// <summary>Decoding the way TokenGenerator did before its cache: the whole sequence through the model for every token.</summary>
    private static List<int> UncachedGreedy(LlamaForCausalLM model, IReadOnlyList<int> prompt, int maxTokens)
        => Uncached(model, prompt, maxTokens, logits => TokenGenerator.ArgMax(logits));

    private static List<int> UncachedSampled(LlamaForCausalLM model, IReadOnlyList<int> prompt, int maxTokens, double temperature, ulong seed)
    {
        var random = new Randomness.DeterministicRandom(seed);
        return Uncached(model, prompt, maxTokens, logits => TokenGenerator.Sample(logits, temperature, random));
    }

    private static List<int> Uncached(LlamaForCausalLM model, IReadOnlyList<int> prompt, int maxTokens, Func<float[], int> choose)
    {
        var tokens = prompt.Select(t => (long)t).ToList();
        var generated = new List<int>();
        using var noGrad = no_grad();
        while (generated.Count < maxTokens && tokens.Count < model.Config.MaxPositionEmbeddings)
        {
            float[] logits;
            using (NewDisposeScope())
                logits = model.forward(tensor(tokens.ToArray(), [1, tokens.Count]))[0, -1].data<float>().ToArray();
            var next = choose(logits);
            generated.Add(next);
            tokens.Add(next);
            if (model.Config.EosTokenIds.Contains(next))
                break;
        }
        return generated;
    }
}
