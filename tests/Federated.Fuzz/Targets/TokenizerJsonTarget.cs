using System.Text;
using System.Text.Json;
using Federated.Core.Tokenizers;

namespace Federated.Fuzz.Targets;

/// <summary>
/// A tokenizer.json as a downloaded model brings it: loaded, then used on a short fixed text (the regexes and
/// merges it defines run only then). Bad input is <see cref="TokenizerFormatException"/>.
/// </summary>
public sealed class TokenizerJsonTarget : IFuzzTarget
{
    private const string Text = "Hello wörld 123 <s></s><|endoftext|>\n▁x";
    private readonly Lazy<ScratchFile> _file = new(() => new ScratchFile("tokenizer.json"));

    public string Name => "tokenizer-json";

    public bool Run(ReadOnlySpan<byte> input)
    {
        try
        {
            var tokenizer = HuggingFaceTokenizer.Load(_file.Value.Write(input));
            try
            {
                _ = tokenizer.Decode(tokenizer.EncodeWithSpecialTokens(Text));
            }
            catch (ArgumentException e) when (e.Message.Contains("is not in the vocabulary", StringComparison.Ordinal))
            {
                // Encode's documented refusal of text a tokenizer without unk_token or byte_fallback cannot represent.
                return Refusal.Note(e);
            }
            return true;
        }
        catch (TokenizerFormatException e)
        {
            return Refusal.Note(e);
        }
    }

    public IReadOnlyList<(string Name, byte[] Bytes)> Seeds() =>
    [
        ("metaspace.json", """{"model":{"type":"BPE","vocab":{"<unk>":0,"▁":1,"h":2,"e":3,"l":4,"o":5,"he":6,"ll":7,"▁he":8},"merges":["h e","l l",["▁","he"]],"unk_token":"<unk>","fuse_unk":true},"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},"normalizer":{"type":"NFKC"},"added_tokens":[{"id":9,"content":"<s>","special":true},{"id":10,"content":"</s>","special":true}],"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}]}}"""u8.ToArray()),
        ("byte-fallback.json", ByteFallback()),
        ("byte-level.json", ByteLevel()),
    ];

    /// <summary>Llama-style: byte fallback, " " replaced by "▁" and prepended, a digit splitter.</summary>
    private static byte[] ByteFallback()
    {
        var vocab = new Dictionary<string, int> { ["<unk>"] = 0, ["▁"] = 1, ["l"] = 2, ["ll"] = 3 };
        for (int b = 0; b < 256; b++)
            vocab[$"<0x{b:X2}>"] = vocab.Count;
        var root = new Dictionary<string, object?>
        {
            ["model"] = new Dictionary<string, object?> { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new[] { "l l" }, ["unk_token"] = "<unk>", ["byte_fallback"] = true },
            ["normalizer"] = new Dictionary<string, object?>
            {
                ["type"] = "Sequence",
                ["normalizers"] = new object[]
                {
                    new Dictionary<string, object?> { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new Dictionary<string, object?> { ["type"] = "Replace", ["pattern"] = new Dictionary<string, string> { ["String"] = " " }, ["content"] = "▁" },
                },
            },
            ["pre_tokenizer"] = new Dictionary<string, object?> { ["type"] = "Split", ["pattern"] = new Dictionary<string, string> { ["Regex"] = "\\d" }, ["behavior"] = "Isolated" },
            ["added_tokens"] = new object[]
            {
                new Dictionary<string, object?> { ["id"] = 0, ["content"] = "<unk>", ["special"] = true },
                new Dictionary<string, object?> { ["id"] = vocab.Count, ["content"] = "</s>", ["special"] = true },
            },
        };
        return JsonSerializer.SerializeToUtf8Bytes(root);
    }

    /// <summary>GPT-2 style: every byte's printable symbol (GPT-2's bytes_to_unicode) in the vocabulary, a ByteLevel pre-tokenizer.</summary>
    private static byte[] ByteLevel()
    {
        var vocab = new Dictionary<string, int>();
        int shifted = 0;
        for (int b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            vocab[((char)(printable ? b : 256 + shifted++)).ToString()] = b;
        }
        vocab["Ġh"] = 256;
        vocab["ll"] = 257;
        var root = new Dictionary<string, object?>
        {
            ["model"] = new Dictionary<string, object?> { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new[] { "Ġ h", "l l" } },
            ["pre_tokenizer"] = new Dictionary<string, object?>
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new object[]
                {
                    new Dictionary<string, object?> { ["type"] = "Digits", ["individual_digits"] = true },
                    new Dictionary<string, object?> { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true },
                },
            },
            ["post_processor"] = new Dictionary<string, object?> { ["type"] = "ByteLevel" },
            ["added_tokens"] = new object[] { new Dictionary<string, object?> { ["id"] = 258, ["content"] = "<|endoftext|>", ["special"] = true } },
        };
        return Encoding.UTF8.GetBytes(JsonSerializer.Serialize(root, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }
}
