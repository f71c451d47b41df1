using System.Text.Json;
using Federated.Core.Tokenizers;

namespace Federated.Core.Tests.Tokenizers;

/// <summary>
/// The real tokenizer files of six model families (../shared/tokenizers) against ids, decodes and chat renders
/// that transformers.js produced for the same corpus (reference/generate.mjs writes them; see there to regenerate).
/// </summary>
public sealed class ReferenceTokenizerTests
{
    public static TheoryData<string> Families => new() { "llama2", "llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3" };

    [Theory]
    [MemberData(nameof(Families))]
    public void Every_corpus_string_encodes_id_for_id_as_transformers_js(string family)
    {
        var (tokenizer, corpus, reference) = Load(family);
        var encode = reference.GetProperty("encode");
        var special = reference.GetProperty("special");
        var mismatches = new List<string>();
        for (int i = 0; i < corpus.Length; i++)
        {
            var expected = Ids(encode[i]);
            var actual = tokenizer.Encode(corpus[i]);
            if (!expected.SequenceEqual(actual))
                mismatches.Add($"{JsonSerializer.Serialize(corpus[i])}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}]");
            var expectedSpecial = Ids(special[i]);
            var actualSpecial = tokenizer.EncodeWithSpecialTokens(corpus[i]);
            if (!expectedSpecial.SequenceEqual(actualSpecial))
                mismatches.Add($"{JsonSerializer.Serialize(corpus[i])} with special tokens: expected [{string.Join(", ", expectedSpecial)}], got [{string.Join(", ", actualSpecial)}]");
        }
        Assert.True(corpus.Length >= 400, $"the corpus has only {corpus.Length} strings");
        Assert.True(mismatches.Count == 0, $"{family}: {mismatches.Count} differ:\n{string.Join("\n", mismatches.Take(20))}");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Every_corpus_string_decodes_as_transformers_js(string family)
    {
        var (tokenizer, corpus, reference) = Load(family);
        var encode = reference.GetProperty("encode");
        var decode = reference.GetProperty("decode");
        var mismatches = new List<string>();
        for (int i = 0; i < corpus.Length; i++)
        {
            var expected = decode[i].GetString();
            var actual = tokenizer.Decode(Ids(encode[i]));
            if (expected != actual)
                mismatches.Add($"{JsonSerializer.Serialize(corpus[i])}: expected {JsonSerializer.Serialize(expected)}, got {JsonSerializer.Serialize(actual)}");
        }
        Assert.True(mismatches.Count == 0, $"{family}: {mismatches.Count} differ:\n{string.Join("\n", mismatches.Take(20))}");
    }

    internal static string ReferenceFolder => Path.Combine(AppContext.BaseDirectory, "Tokenizers", "reference");

    internal static string TokenizerFolder(string family)
    {
        // The tests run from tests/Federated.Core.Tests/bin/<configuration>/net10.0; shared/ is beside the repository.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "..", "shared", "tokenizers", family);
            if (File.Exists(Path.Combine(candidate, HuggingFaceTokenizer.TokenizerFile)))
                return candidate;
        }
        throw new DirectoryNotFoundException($"../shared/tokenizers/{family} was not found above {AppContext.BaseDirectory}");
    }

    // Loading a 262k-entry vocabulary takes seconds on this machine; the test classes share one load per family.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<HuggingFaceTokenizer>> Loaded = new();

    internal static (HuggingFaceTokenizer Tokenizer, string[] Corpus, JsonElement Reference) Load(string family)
    {
        var tokenizer = Loaded.GetOrAdd(family, f => new Lazy<HuggingFaceTokenizer>(() => HuggingFaceTokenizer.Load(TokenizerFolder(f)))).Value;
        var corpus = JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(ReferenceFolder, "corpus.json")))!;
        var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(ReferenceFolder, family + ".json"))).RootElement;
        return (tokenizer, corpus, reference);
    }

    internal static int[] Ids(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];
}
