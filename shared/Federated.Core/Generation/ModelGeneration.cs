using System.Diagnostics;
using System.Globalization;
using Federated.Core.Checkpoints;
using Federated.Core.Data;
using Federated.Core.Model;
using Federated.Core.Tokenizers;
using static TorchSharp.torch;

namespace Federated.Core.Generation;

/// <summary>What `federated model generate` is asked for.</summary>
public sealed record GenerationRequest
{
    /// <summary>A base model reference: builtin:…, a Hugging Face directory or a llama2.c .bin file.</summary>
    public required string Model { get; init; }

    public string? Prompt { get; init; }

    /// <summary>Comma-separated token ids, e.g. "1,2,3".</summary>
    public string? PromptIds { get; init; }

    public int MaxTokens { get; init; } = 64;

    /// <summary>0 decodes greedily.</summary>
    public double Temperature { get; init; } = 1.0;

    public ulong Seed { get; init; }

    /// <summary>Print only the generated ids, space-separated on one line.</summary>
    public bool IdsOnly { get; init; }
}

/// <summary>
/// The logic of `federated model generate`: resolves the prompt to token ids (through the model's tokenizer, see
/// <see cref="ModelCatalog.TextFormat"/>; a llama2.c checkpoint takes --prompt-ids), decodes, and prints the result.
/// </summary>
public static class ModelGeneration
{
    /// <summary>Runs a request: results on <paramref name="output"/>, progress on <paramref name="log"/>. Bad requests throw <see cref="ArgumentException"/>.</summary>
    public static IReadOnlyList<int> Run(GenerationRequest request, TextWriter output, TextWriter log)
    {
        if (request.MaxTokens < 1)
            throw new ArgumentException($"--max-tokens must be at least 1, got {request.MaxTokens}");
        if (!(request.Temperature >= 0))
            throw new ArgumentException($"--temperature must be 0 (greedy) or positive, got {request.Temperature}");
        var info = ModelCatalog.Inspect(request.Model);
        var prompt = PromptTokens(info, request);

        var clock = Stopwatch.StartNew();
        using var model = ModelCatalog.Load(request.Model, CPU);
        log.WriteLine($"loaded {info.Format} model {request.Model} ({info.Config.ParameterCount:N0} parameters) in {clock.Elapsed.TotalSeconds:F1} s");
        clock.Restart();
        var generated = TokenGenerator.Generate(model, prompt, request.MaxTokens, request.Temperature, request.Seed);
        log.WriteLine($"generated {generated.Count} tokens in {clock.Elapsed.TotalSeconds:F1} s");

        var tokenizer = request.IdsOnly ? null : TryTokenizer(info);
        if (tokenizer is null)
            output.WriteLine(string.Join(' ', generated.Select(id => id.ToString(CultureInfo.InvariantCulture))));
        else
            output.WriteLine(tokenizer.Decode(prompt.Concat(generated)));
        return generated;
    }

    /// <summary>The prompt's token ids: --prompt-ids, --prompt through the model's tokenizer, or else the model's BOS token.</summary>
    public static IReadOnlyList<int> PromptTokens(CheckpointInfo info, GenerationRequest request)
    {
        if (request.Prompt is not null && request.PromptIds is not null)
            throw new ArgumentException("give either --prompt or --prompt-ids, not both");
        if (request.PromptIds is not null)
            return ParseIds(request.PromptIds);
        if (request.Prompt is not null)
        {
            ITextTokenizer tokenizer;
            try
            {
                tokenizer = ModelCatalog.TextFormat(info.Reference).Tokenizer;
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"--prompt needs a tokenizer: {e.Message}; or give token ids instead, e.g. --prompt-ids {info.Config.BosTokenId ?? 1},…", e);
            }
            return tokenizer.BosId is { } first ? [first, .. tokenizer.Encode(request.Prompt)] : tokenizer.Encode(request.Prompt);
        }
        if (info.Config.BosTokenId is { } bos)
            return [bos];
        throw new ArgumentException($"'{info.Reference}' declares no bos_token_id to start from; give --prompt-ids");
    }

    /// <summary>The model's tokenizer for printing text, or null (print ids) where it has none.</summary>
    private static ITextTokenizer? TryTokenizer(CheckpointInfo info)
    {
        if (info.Format == CheckpointFormat.Llama2c || (info.Format == CheckpointFormat.HuggingFace && info.TokenizerFile is null))
            return null;
        return ModelCatalog.TextFormat(info.Reference).Tokenizer;
    }

    /// <summary>Parses "1, 2,3" into ids; throws naming the item that is not a non-negative integer.</summary>
    public static IReadOnlyList<int> ParseIds(string text)
    {
        var ids = new List<int>();
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                throw new ArgumentException($"--prompt-ids: '{item}' is not a token id (expected comma-separated non-negative integers such as 1,2,3)");
            ids.Add(id);
        }
        return ids;
    }
}
