using System.Text.Json;

namespace Federated.Core.Tokenizers;

/// <summary>What tokenizer_config.json says beside tokenizer.json: the named special tokens, the chat template, decoding clean-up.</summary>
internal sealed record TokenizerConfig(string? Bos, string? Eos, string? Pad, string? ChatTemplate, bool CleanUpSpaces)
{
    public static TokenizerConfig Read(string file)
    {
        using var document = JsonFields.Parse(file);
        var json = new JsonFields(file);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new TokenizerFormatException($"{file}: expected a JSON object");
        // add_bos_token is not read: the tokenizer adds what tokenizer.json's post-processor adds, as
        // transformers.js and the tokenizers library do (DeepSeek V3 says add_bos_token but its file adds none).
        return new TokenizerConfig(
            TokenContent(json, root, "bos_token"),
            TokenContent(json, root, "eos_token") ?? throw json.Error("eos_token", "is missing"),
            TokenContent(json, root, "pad_token"),
            ReadChatTemplate(json, root),
            json.OptionalBool(root, "", "clean_up_tokenization_spaces") ?? false);
    }

    /// <summary>A token given as a string or as {"content": ...}.</summary>
    private static string? TokenContent(JsonFields json, JsonElement root, string field)
    {
        var value = JsonFields.Optional(root, field);
        return value?.ValueKind switch
        {
            null => null,
            JsonValueKind.String => value.Value.GetString(),
            JsonValueKind.Object => json.String(value.Value, field, "content"),
            _ => throw json.Error(field, $"must be a string or an object with \"content\", got {value.Value.ValueKind}"),
        };
    }

    /// <summary>The template as a string, or the one named "default" where a list of named templates is given.</summary>
    private static string? ReadChatTemplate(JsonFields json, JsonElement root)
    {
        var value = JsonFields.Optional(root, "chat_template");
        switch (value?.ValueKind)
        {
            case null:
                return null;
            case JsonValueKind.String:
                return value.Value.GetString();
            case JsonValueKind.Array:
                foreach (var named in value.Value.EnumerateArray())
                {
                    if (named.ValueKind == JsonValueKind.Object && named.TryGetProperty("name", out var name) && name.ValueEquals("default"))
                        return json.String(named, "chat_template[default]", "template");
                }
                throw json.Error("chat_template", "is a list without a template named \"default\"");
            default:
                throw json.Error("chat_template", $"must be a string or a list of named templates, got {value.Value.ValueKind}");
        }
    }
}
