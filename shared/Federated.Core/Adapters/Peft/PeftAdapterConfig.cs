using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Federated.Core.Adapters.Peft;

/// <summary>
/// The parts of Hugging Face PEFT's adapter_config.json that decide what a LoRA adapter does: PEFT applies
/// ΔW = (lora_alpha / r) · B · A per module (÷ √r with use_rslora), where rank_pattern and alpha_pattern
/// override r and lora_alpha for the modules whose names they match.
/// </summary>
public sealed record PeftAdapterConfig
{
    public const string FileName = "adapter_config.json";

    public required int Rank { get; init; }

    public required double Alpha { get; init; }

    public IReadOnlyList<string> TargetModules { get; init; } = [];

    public string BaseModel { get; init; } = "";

    public bool UseRsLora { get; init; }

    public IReadOnlyDictionary<string, int> RankPattern { get; init; } = new Dictionary<string, int>();

    public IReadOnlyDictionary<string, double> AlphaPattern { get; init; } = new Dictionary<string, double>();

    /// <summary>The scaling PEFT uses for a module, by its full name (e.g. model.layers.0.self_attn.q_proj).</summary>
    public double ScalingOf(string module)
    {
        var rank = Match(RankPattern, module) ?? Rank;
        var alpha = Match(AlphaPattern, module) ?? Alpha;
        return UseRsLora ? alpha / Math.Sqrt(rank) : alpha / rank;
    }

    /// <summary>The rank PEFT builds a module with.</summary>
    public int RankOf(string module) => Match(RankPattern, module) ?? Rank;

    /// <summary>PEFT's rule: a pattern key matches a module whose name ends with it at a dot boundary (as a regex).</summary>
    private static T? Match<T>(IReadOnlyDictionary<string, T> patterns, string module) where T : struct
    {
        foreach (var (key, value) in patterns)
        {
            if (Regex.IsMatch(module, $"^(.*\\.)?({key})$", RegexOptions.None, TimeSpan.FromSeconds(1)))
                return value;
        }
        return null;
    }

    public static PeftAdapterConfig Parse(string json, string source)
    {
        JsonNode? root;
        try
        {
            // A repeated field would otherwise fail later, as an ArgumentException of JsonObject's dictionary.
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new AdapterFormatException($"{source}: not valid JSON: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            // The duplicate check reads every name: a \u escape naming a lone surrogate fails there.
            throw new AdapterFormatException($"{source}: holds a name that is not valid UTF-16 ({e.Message})");
        }
        if (root is not JsonObject config)
            throw new AdapterFormatException($"{source}: must be a JSON object");
        try
        {
            return Read(config, source);
        }
        catch (InvalidOperationException e)
        {
            // A \u escape naming a lone surrogate is refused only as its string is read.
            throw new AdapterFormatException($"{source}: holds a string that is not valid UTF-16 ({e.Message})");
        }
    }

    private static PeftAdapterConfig Read(JsonObject config, string source)
    {
        var peftType = String(config, "peft_type", source) ?? throw new AdapterFormatException($"{source}: field 'peft_type' is missing");
        if (!string.Equals(peftType, "LORA", StringComparison.OrdinalIgnoreCase))
            throw new AdapterFormatException($"{source}: field 'peft_type' is '{peftType}'; only LORA adapters are supported");
        if (Bool(config, "use_dora", source))
            throw new AdapterFormatException($"{source}: field 'use_dora' is true; DoRA adapters are not supported");
        if (Bool(config, "fan_in_fan_out", source))
            throw new AdapterFormatException($"{source}: field 'fan_in_fan_out' is true (Conv1D layers); only nn.Linear-style adapters are supported");
        if (config["modules_to_save"] is JsonArray { Count: > 0 })
            throw new AdapterFormatException($"{source}: field 'modules_to_save' lists fully trained modules; only LoRA factors are supported");

        var rank = (int)Number(config, "r", source, required: true)!.Value;
        if (rank < 1)
            throw new AdapterFormatException($"{source}: field 'r' must be a positive integer, got {rank}");
        var alpha = Number(config, "lora_alpha", source, required: false) ?? 8; // PEFT's default
        var targets = config["target_modules"] switch
        {
            JsonArray array => array.Select(n => n is JsonValue v && v.TryGetValue<string>(out var name) ? name : throw new AdapterFormatException($"{source}: field 'target_modules' must list names, got {n?.ToJsonString() ?? "null"}")).ToArray(),
            JsonValue value when value.TryGetValue<string>(out var pattern) => [pattern],
            null => [],
            _ => throw new AdapterFormatException($"{source}: field 'target_modules' must be a list of names or a pattern"),
        };
        return new PeftAdapterConfig
        {
            Rank = rank,
            Alpha = alpha,
            TargetModules = targets,
            BaseModel = String(config, "base_model_name_or_path", source) ?? "",
            UseRsLora = Bool(config, "use_rslora", source),
            RankPattern = Pattern(config, "rank_pattern", source).ToDictionary(kv => kv.Key, kv => (int)kv.Value),
            AlphaPattern = Pattern(config, "alpha_pattern", source),
        };
    }

    public string ToJson()
    {
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = BaseModel,
            ["r"] = Rank,
            ["lora_alpha"] = Alpha,
            ["lora_dropout"] = 0.0,
            ["target_modules"] = new JsonArray(TargetModules.Select(t => (JsonNode)t).ToArray()),
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["use_rslora"] = UseRsLora,
            ["use_dora"] = false,
            ["init_lora_weights"] = true,
            ["modules_to_save"] = null,
            ["layers_to_transform"] = null,
            ["layers_pattern"] = null,
            ["rank_pattern"] = new JsonObject(RankPattern.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value))),
            ["alpha_pattern"] = new JsonObject(AlphaPattern.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value))),
            ["revision"] = null,
        };
        return config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static string? String(JsonObject config, string field, string source) => config[field] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => throw new AdapterFormatException($"{source}: field '{field}' must be a string"),
    };

    private static bool Bool(JsonObject config, string field, string source) => config[field] switch
    {
        null => false,
        JsonValue value when value.TryGetValue<bool>(out var flag) => flag,
        _ => throw new AdapterFormatException($"{source}: field '{field}' must be true or false"),
    };

    private static double? Number(JsonObject config, string field, string source, bool required)
    {
        var node = config[field];
        if (node is null)
            return required ? throw new AdapterFormatException($"{source}: field '{field}' is missing") : null;
        if (node is JsonValue value && value.TryGetValue<double>(out var number) && double.IsFinite(number))
            return number;
        throw new AdapterFormatException($"{source}: field '{field}' must be a number, got {node.ToJsonString()}");
    }

    private static Dictionary<string, double> Pattern(JsonObject config, string field, string source)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        if (config[field] is null)
            return result;
        if (config[field] is not JsonObject patterns)
            throw new AdapterFormatException($"{source}: field '{field}' must be an object of module patterns to numbers");
        foreach (var (key, node) in patterns)
        {
            if (node is not JsonValue value || !value.TryGetValue<double>(out var number) || !double.IsFinite(number) || number <= 0)
                throw new AdapterFormatException($"{source}: field '{field}.{key}' must be a positive number");
            // Keys are regexes (PEFT's rule, see Match): one that does not compile is refused here, not when a module is looked up.
            try
            {
                _ = new Regex($"^(.*\\.)?({key})$", RegexOptions.None, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException e)
            {
                throw new AdapterFormatException($"{source}: field '{field}' has key '{key}', which is not a regular expression ({e.Message})");
            }
            result[key] = number;
        }
        return result;
    }

    internal static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
