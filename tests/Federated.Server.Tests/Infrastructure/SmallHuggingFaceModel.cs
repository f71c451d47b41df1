using System.Text.Json.Nodes;
using Federated.Core.Checkpoints;
using Federated.Core.Model;
using static TorchSharp.torch;

namespace Federated.Server.Tests.Infrastructure;

/// <summary>
/// Writes a small Hugging Face model directory as a user would bring one: config.json and model.safetensors
/// (a seeded small Llama), a hand-written SentencePiece-style BPE tokenizer.json over letters (no byte tokens,
/// so its 64-row embedding cannot take the built-in byte tokenizer's ids) and a tokenizer_config.json with a
/// ChatML chat template, as SmolLM2 and Qwen2 have.
/// </summary>
public static class SmallHuggingFaceModel
{
    public const int ImStart = 1;
    public const int ImEnd = 2;

    // <unk>, the two ChatML markers, "▁", the characters below, then two merges; the embedding has spare rows, as real models often do.
    private const string Characters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.\n";
    public const int TokenizerIds = 4 + 54 + 2;
    public const int EmbeddingRows = 64;

    private const string ChatMlTemplate = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    public static string Write(string directory)
    {
        var config = BuiltinModels.Config(BuiltinModels.Tiny) with { VocabSize = EmbeddingRows, BosTokenId = null, EosTokenIds = [ImEnd] };
        using (var model = BuiltinModels.Create(config, "small-hf-test-model", CPU))
            HuggingFaceCheckpoint.Save(model, directory);
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), Tokenizer().ToJsonString());
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), new JsonObject
        {
            ["bos_token"] = null,
            ["eos_token"] = "<|im_end|>",
            ["unk_token"] = "<unk>",
            ["chat_template"] = ChatMlTemplate,
        }.ToJsonString());
        return directory;
    }

    private static JsonObject Tokenizer()
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<|im_start|>"] = ImStart, ["<|im_end|>"] = ImEnd, ["▁"] = 3 };
        foreach (var c in Characters)
            vocab[c.ToString()] = vocab.Count;
        vocab["th"] = vocab.Count;
        vocab["▁t"] = vocab.Count;
        JsonObject Added(int id, string content) => new() { ["id"] = id, ["content"] = content, ["special"] = true };
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(Added(0, "<unk>"), Added(ImStart, "<|im_start|>"), Added(ImEnd, "<|im_end|>")),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false },
            ["post_processor"] = null,
            ["decoder"] = null,
            ["model"] = new JsonObject { ["type"] = "BPE", ["unk_token"] = "<unk>", ["fuse_unk"] = true, ["byte_fallback"] = false, ["vocab"] = vocab, ["merges"] = new JsonArray("t h", "▁ t") },
        };
    }
}
