using System.Text.Json;
using System.Text.Json.Nodes;
using Federated.Core.Model;

namespace Federated.Core.Checkpoints;

/// <summary>
/// A Hugging Face config.json for the architectures our Llama decoder implements: model_type "llama"
/// (Llama 2/3, TinyLlama, SmolLM2) and "qwen2" (bias on q, k and v). Anything the decoder would compute
/// differently (other activations, MLP or o_proj bias, sliding windows, other RoPE scalings) is refused.
/// </summary>
public static class HuggingFaceConfig
{
    public const string FileName = "config.json";
    public const string LlamaArchitecture = "LlamaForCausalLM";
    public const string Qwen2Architecture = "Qwen2ForCausalLM";

    /// <summary>The config, its architecture and torch_dtype ("unknown" when absent).</summary>
    public static (LlamaConfig Config, string Architecture, string DType) Read(string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException($"{path}: not valid JSON: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointFormatException($"{path}: cannot be read: {e.Message}", e);
        }
        if (root is not JsonObject json)
            throw new CheckpointFormatException($"{path}: must be a JSON object");
        var reader = new Fields(path, json);

        var modelType = reader.String("model_type") ?? throw reader.Missing("model_type");
        var architecture = modelType switch
        {
            "llama" => LlamaArchitecture,
            "qwen2" => Qwen2Architecture,
            _ => throw new CheckpointFormatException($"{path}: model_type '{modelType}' is not supported; supported: llama, qwen2"),
        };
        if (json["architectures"] is { } architectures)
        {
            var names = architectures is JsonArray array ? array.Select(a => a?.GetValueKind() == JsonValueKind.String ? a.GetValue<string>() : null).ToList() : null;
            if (names is null || names.Count != 1 || names[0] != architecture)
                throw new CheckpointFormatException($"{path}: field 'architectures' is {architectures.ToJsonString()}; a {modelType} checkpoint must be [\"{architecture}\"]");
        }
        var activation = reader.String("hidden_act") ?? "silu";
        if (activation != "silu")
            throw new CheckpointFormatException($"{path}: field 'hidden_act' is '{activation}'; only silu is supported");
        if (reader.Bool("mlp_bias") == true)
            throw new CheckpointFormatException($"{path}: field 'mlp_bias' is true; MLP biases are not supported");
        if (reader.Bool("use_sliding_window") == true)
            throw new CheckpointFormatException($"{path}: field 'use_sliding_window' is true; sliding-window attention is not supported");
        var attentionBias = reader.Bool("attention_bias");
        if (modelType == "llama" && attentionBias == true)
            throw new CheckpointFormatException($"{path}: field 'attention_bias' is true; Llama's attention_bias also puts a bias on o_proj, which is not supported");

        var hidden = reader.PositiveInt("hidden_size") ?? throw reader.Missing("hidden_size");
        var heads = reader.PositiveInt("num_attention_heads") ?? throw reader.Missing("num_attention_heads");
        if (reader.PositiveInt("head_dim") is { } headDim && headDim * heads != hidden)
            throw new CheckpointFormatException($"{path}: field 'head_dim' is {headDim} but hidden_size / num_attention_heads is {hidden / heads}; a separate head dimension is not supported");

        var config = new LlamaConfig
        {
            VocabSize = reader.PositiveInt("vocab_size") ?? throw reader.Missing("vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = reader.PositiveInt("intermediate_size") ?? throw reader.Missing("intermediate_size"),
            NumLayers = reader.PositiveInt("num_hidden_layers") ?? throw reader.Missing("num_hidden_layers"),
            NumHeads = heads,
            NumKeyValueHeads = reader.PositiveInt("num_key_value_heads") ?? heads,
            MaxPositionEmbeddings = reader.PositiveInt("max_position_embeddings") ?? throw reader.Missing("max_position_embeddings"),
            RmsNormEps = reader.PositiveDouble("rms_norm_eps") ?? 1e-6,
            RopeTheta = reader.PositiveDouble("rope_theta") ?? 10000.0,
            TieWordEmbeddings = reader.Bool("tie_word_embeddings") ?? false,
            AttentionBias = modelType == "qwen2",
            RopeScaling = ReadRopeScaling(path, json["rope_scaling"]),
            BosTokenId = reader.TokenIds("bos_token_id") is [var bos, ..] ? bos : null,
            EosTokenIds = reader.TokenIds("eos_token_id"),
        };
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CheckpointFormatException($"{path}: {e.Message}");
        }
        return (config, architecture, reader.String("torch_dtype") ?? reader.String("dtype") ?? "unknown");
    }

    /// <summary>Writes the config of <paramref name="config"/> as Hugging Face would, with the weights' dtype.</summary>
    public static void Write(string path, LlamaConfig config, string torchDType)
    {
        var qwen = config.AttentionBias;
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(qwen ? Qwen2Architecture : LlamaArchitecture),
            ["model_type"] = qwen ? "qwen2" : "llama",
            ["vocab_size"] = config.VocabSize,
            ["hidden_size"] = config.HiddenSize,
            ["intermediate_size"] = config.IntermediateSize,
            ["num_hidden_layers"] = config.NumLayers,
            ["num_attention_heads"] = config.NumHeads,
            ["num_key_value_heads"] = config.NumKeyValueHeads,
            ["max_position_embeddings"] = config.MaxPositionEmbeddings,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = config.RmsNormEps,
            ["rope_theta"] = config.RopeTheta,
            ["tie_word_embeddings"] = config.TieWordEmbeddings,
            ["torch_dtype"] = torchDType,
        };
        if (!qwen)
        {
            json["attention_bias"] = false;
            json["mlp_bias"] = false;
        }
        if (config.RopeScaling is { } scaling)
        {
            json["rope_scaling"] = new JsonObject
            {
                ["rope_type"] = "llama3",
                ["factor"] = scaling.Factor,
                ["low_freq_factor"] = scaling.LowFreqFactor,
                ["high_freq_factor"] = scaling.HighFreqFactor,
                ["original_max_position_embeddings"] = scaling.OriginalMaxPositionEmbeddings,
            };
        }
        if (config.BosTokenId is { } bos)
            json["bos_token_id"] = bos;
        if (config.EosTokenIds.Count == 1)
            json["eos_token_id"] = config.EosTokenIds[0];
        else if (config.EosTokenIds.Count > 1)
            json["eos_token_id"] = new JsonArray(config.EosTokenIds.Select(id => (JsonNode?)id).ToArray());
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static Llama3RopeScaling? ReadRopeScaling(string path, JsonNode? node)
    {
        if (node is null)
            return null;
        if (node is not JsonObject json)
            throw new CheckpointFormatException($"{path}: field 'rope_scaling' must be an object or null");
        var reader = new Fields(path, json, "rope_scaling.");
        var type = reader.String("rope_type") ?? reader.String("type") ?? throw reader.Missing("rope_type");
        if (type == "default")
            return null;
        if (type != "llama3")
            throw new CheckpointFormatException($"{path}: field 'rope_scaling.rope_type' is '{type}'; only llama3 rope scaling is supported");
        var scaling = new Llama3RopeScaling(
            reader.PositiveDouble("factor") ?? throw reader.Missing("factor"),
            reader.PositiveDouble("low_freq_factor") ?? throw reader.Missing("low_freq_factor"),
            reader.PositiveDouble("high_freq_factor") ?? throw reader.Missing("high_freq_factor"),
            reader.PositiveInt("original_max_position_embeddings") ?? throw reader.Missing("original_max_position_embeddings"));
        try
        {
            scaling.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CheckpointFormatException($"{path}: {e.Message}");
        }
        return scaling;
    }

    /// <summary>Typed reads of optional fields; a present field of the wrong kind is an error naming it.</summary>
    private sealed class Fields(string path, JsonObject json, string prefix = "")
    {
        public CheckpointFormatException Missing(string name) => new($"{path}: field '{prefix}{name}' is missing");

        public string? String(string name) => Get(name) switch
        {
            null => null,
            var node when node.GetValueKind() == JsonValueKind.String => node.GetValue<string>(),
            var node => throw Invalid(name, node, "a string"),
        };

        public bool? Bool(string name) => Get(name) switch
        {
            null => null,
            var node when node.GetValueKind() is JsonValueKind.True or JsonValueKind.False => node.GetValue<bool>(),
            var node => throw Invalid(name, node, "true or false"),
        };

        public int? PositiveInt(string name) => Get(name) switch
        {
            null => null,
            var node when node.GetValueKind() == JsonValueKind.Number && node.AsValue().TryGetValue<int>(out var value) && value > 0 => value,
            var node => throw Invalid(name, node, "a positive integer"),
        };

        public double? PositiveDouble(string name) => Get(name) switch
        {
            null => null,
            var node when node.GetValueKind() == JsonValueKind.Number && node.GetValue<double>() is var value && value > 0 => value,
            var node => throw Invalid(name, node, "a positive number"),
        };

        /// <summary>A token id or a list of them (eos_token_id is a list in Llama 3).</summary>
        public IReadOnlyList<int> TokenIds(string name)
        {
            var node = Get(name);
            if (node is null)
                return [];
            var items = node is JsonArray array ? array.ToList() : [node];
            var ids = new List<int>();
            foreach (var item in items)
            {
                if (item is null || item.GetValueKind() != JsonValueKind.Number || !item.AsValue().TryGetValue<int>(out var id) || id < 0)
                    throw Invalid(name, node, "a token id or a list of token ids");
                ids.Add(id);
            }
            return ids;
        }

        private JsonNode? Get(string name) => json[name];

        private CheckpointFormatException Invalid(string name, JsonNode node, string expected)
            => new($"{path}: field '{prefix}{name}' is {node.ToJsonString()}; expected {expected}");
    }
}
