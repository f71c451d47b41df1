using System.Globalization;
using Federated.Core.Generation;
using Federated.Core.Model;
using Spectre.Console;
using static Federated.Simulations.Bench.BenchMeasure;
using static TorchSharp.torch;

namespace Federated.Simulations.Bench;

/// <summary>
/// Greedy decoding speed with the key/value cache against re-running the whole sequence for every new token
/// (what generation did before the cache), on the same model in the same run; both must give the same ids.
/// </summary>
public sealed class GenerationBench : IBenchSection
{
    private const int PromptLength = 16;

    public string Name => "generation";

    public string Description => "tokens/s of greedy decoding with the key/value cache vs full recomputation per token";

    /// <summary>dim 512, 6 layers, 8 heads over 4 KV heads, SwiGLU 1376, vocabulary 8192, tied: about 21M parameters.</summary>
    public static LlamaConfig Config(bool quick) => TrainingBench.Config(quick) with { NumKeyValueHeads = 4, EosTokenIds = [] };

    public Task RunAsync(bool quick, CancellationToken cancellationToken)
    {
        set_num_threads(Environment.ProcessorCount);
        var config = Config(quick);
        var newTokens = quick ? 32 : 128;
        using var model = BuiltinModels.Create(config, "generation-bench", CPU);
        var random = new Random(3);
        var prompt = Enumerable.Range(0, PromptLength).Select(_ => random.Next(config.VocabSize)).ToArray();

        TokenGenerator.Generate(model, prompt, 4); // warm-up
        IReadOnlyList<int> cachedIds = [], fullIds = [];
        var cached = Best(() => cachedIds = TokenGenerator.Generate(model, prompt, newTokens), repeats: 3);
        cancellationToken.ThrowIfCancellationRequested();
        var full = Best(() => fullIds = Recomputing(model, prompt, newTokens), repeats: 1);
        if (!cachedIds.SequenceEqual(fullIds))
            throw new InvalidOperationException($"cached and recomputing decoders disagree: {string.Join(' ', cachedIds)} vs {string.Join(' ', fullIds)}");

        var parameters = model.parameters().Sum(p => p.numel());
        var table = new Table().AddColumns("Case", "Recompute every token", "Key/value cache", "Speed-up (target ≥ 5)");
        table.AddRow($"Llama d={config.HiddenSize} L={config.NumLayers} heads {config.NumHeads}/{config.NumKeyValueHeads} KV V={config.VocabSize} ({parameters / 1e6:F1}M parameters), "
            + $"prompt {PromptLength} + {newTokens} greedy tokens, f32, {get_num_threads()} threads",
            TokensPerSecond(newTokens, full), TokensPerSecond(newTokens, cached), Ratio(full / cached, 5));
        AnsiConsole.MarkupLine("Both decoders produced the same ids. Cached: best of 3 runs (prompt prefilled in one pass); recomputing: one run.");
        AnsiConsole.Write(table);
        return Task.CompletedTask;
    }

    /// <summary>Greedy decoding without a cache: the whole sequence through the model for every new token.</summary>
    private static List<int> Recomputing(LlamaForCausalLM model, IReadOnlyList<int> prompt, int newTokens)
    {
        var tokens = prompt.Select(t => (long)t).ToList();
        var generated = new List<int>(newTokens);
        using var noGrad = no_grad();
        while (generated.Count < newTokens)
        {
            using var scope = NewDisposeScope();
            var logits = model.forward(tensor(tokens.ToArray(), [1, tokens.Count]))[0, -1].data<float>().ToArray();
            var next = TokenGenerator.ArgMax(logits);
            generated.Add(next);
            tokens.Add(next);
        }
        return generated;
    }

    private static string TokensPerSecond(int tokens, double seconds)
        => $"{(tokens / seconds).ToString("F1", CultureInfo.InvariantCulture)} tokens/s ({(seconds * 1000 / tokens).ToString("F1", CultureInfo.InvariantCulture)} ms/token)";
}
