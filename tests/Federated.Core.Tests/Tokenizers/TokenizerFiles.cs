using System.Text.Json;
using System.Text.Json.Nodes;

namespace Federated.Core.Tests.Tokenizers;

/// <summary>Small hand-made tokenizer.json files in a temporary folder, since nothing can be downloaded.</summary>
internal sealed class TokenizerFiles : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("tokenizer-test").FullName;

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    public string Write(JsonObject tokenizer, JsonObject? config = null)
    {
        File.WriteAllText(Path.Combine(Folder, "tokenizer.json"), tokenizer.ToJsonString());
        var configPath = Path.Combine(Folder, "tokenizer_config.json");
        if (config is null)
            File.Delete(configPath);
        else
            File.WriteAllText(configPath, config.ToJsonString());
        return Folder;
    }

    /// <summary>
    /// GPT-2's printable stand-ins for bytes: printable Latin-1 bytes stand for themselves, the other bytes
    /// (control characters, space, …) take the characters from U+0100 on, in byte order.
    /// </summary>
    public static char ByteChar(int b)
    {
        static bool Printable(int x) => x is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;
        if (Printable(b))
            return (char)b;
        int n = 0;
        for (int x = 0; x < b; x++)
        {
            if (!Printable(x))
                n++;
        }
        return (char)(256 + n);
    }

    /// <summary>
    /// Byte-level BPE: ids 0–255 are the bytes (id = byte value), then merges that build "hell", "Ġwor",
    /// "123" and "34", then added tokens &lt;|endoftext|&gt; 300, &lt;|im_start|&gt; 301, &lt;|im_end|&gt; 302.
    /// </summary>
    public static JsonObject ByteLevel(JsonNode? preTokenizer = null, JsonNode? postProcessor = null)
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++)
            vocab[ByteChar(b).ToString()] = b;
        string[] merged = ["he", "ll", "hell", "Ġw", "or", "Ġwor", "34", "12", "123"];
        for (int i = 0; i < merged.Length; i++)
            vocab[merged[i]] = 256 + i;
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = Added((300, "<|endoftext|>", true), (301, "<|im_start|>", true), (302, "<|im_end|>", true)),
            ["normalizer"] = null,
            ["pre_tokenizer"] = preTokenizer ?? new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true },
            ["post_processor"] = postProcessor,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["vocab"] = vocab,
                // Newer files write merges as pairs; the older "left right" strings are mixed in on purpose.
                ["merges"] = new JsonArray("h e", "l l", new JsonArray("he", "ll"), "Ġ w", "o r", "Ġw or", "3 4", "1 2", "12 3"),
            },
        };
    }

    public const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static JsonObject Llama3PreTokenizer() => new()
    {
        ["type"] = "Sequence",
        ["pretokenizers"] = new JsonArray(
            new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Llama3Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
            new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = false }),
    };

    /// <summary>
    /// SentencePiece BPE: &lt;unk&gt; 0, &lt;s&gt; 1, &lt;/s&gt; 2, byte tokens &lt;0x00&gt;… at 3 + byte, then
    /// ▁ 259, h 260, e 261, l 262, o 263, w 264, r 265, d 266 and merged pieces from 267.
    /// Legacy layout (Llama 2): Prepend + Replace normalizer, no pre-tokenizer.
    /// </summary>
    public static JsonObject SentencePiece(bool metaspace = false)
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++)
            vocab[$"<0x{b:X2}>"] = 3 + b;
        string[] pieces = ["▁", "h", "e", "l", "o", "w", "r", "d", "he", "ll", "hell", "▁w", "or", "▁wor", "▁hell"];
        for (int i = 0; i < pieces.Length; i++)
            vocab[pieces[i]] = 259 + i;
        var normalizer = new JsonObject
        {
            ["type"] = "Sequence",
            ["normalizers"] = new JsonArray(
                new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
        };
        var preTokenizer = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false };
        return new JsonObject
        {
            ["added_tokens"] = Added((0, "<unk>", true), (1, "<s>", true), (2, "</s>", true)),
            ["normalizer"] = metaspace ? null : normalizer,
            ["pre_tokenizer"] = metaspace ? preTokenizer : null,
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<s>", ["type_id"] = 0 } }, new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["unk_token"] = "<unk>",
                ["byte_fallback"] = true,
                ["fuse_unk"] = true,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray("h e", "l l", "he ll", "▁ w", "o r", "▁w or", "▁ hell"),
            },
        };
    }

    private static JsonArray Added(params (int Id, string Content, bool Special)[] tokens)
        => new([.. tokens.Select(t => (JsonNode)new JsonObject { ["id"] = t.Id, ["content"] = t.Content, ["special"] = t.Special })]);

    public static JsonObject Clone(JsonObject o) => JsonNode.Parse(o.ToJsonString(new JsonSerializerOptions()))!.AsObject();
}
