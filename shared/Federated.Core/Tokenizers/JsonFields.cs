using System.Text.Json;

namespace Federated.Core.Tokenizers;

/// <summary>Reads fields of a tokenizer file, naming the file and the dotted field path in every error.</summary>
internal sealed class JsonFields(string file)
{
    public string File { get; } = file;

    public TokenizerFormatException Error(string field, string problem) => new($"{File}: field \"{field}\" {problem}");

    /// <summary>The field's value, or null where it is missing or JSON null.</summary>
    public static JsonElement? Optional(JsonElement parent, string name)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        return value;
    }

    public JsonElement Required(JsonElement parent, string parentPath, string name)
        => Optional(parent, name) ?? throw Error(Join(parentPath, name), "is missing");

    public JsonElement Object(JsonElement parent, string parentPath, string name)
    {
        var value = Required(parent, parentPath, name);
        return value.ValueKind == JsonValueKind.Object ? value : throw Error(Join(parentPath, name), $"must be an object, got {value.ValueKind}");
    }

    public string String(JsonElement parent, string parentPath, string name)
        => OptionalString(parent, parentPath, name) ?? throw Error(Join(parentPath, name), "is missing");

    public string? OptionalString(JsonElement parent, string parentPath, string name)
    {
        var value = Optional(parent, name);
        if (value is null)
            return null;
        return value.Value.ValueKind == JsonValueKind.String ? value.Value.GetString()! : throw Error(Join(parentPath, name), $"must be a string, got {value.Value.ValueKind}");
    }

    public bool? OptionalBool(JsonElement parent, string parentPath, string name)
    {
        var value = Optional(parent, name);
        return value?.ValueKind switch
        {
            null => null,
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(Join(parentPath, name), $"must be true or false, got {value.Value.ValueKind}"),
        };
    }

    public static string Join(string parentPath, string name) => parentPath.Length == 0 ? name : parentPath + "." + name;

    public static JsonDocument Parse(string file)
    {
        if (!System.IO.File.Exists(file))
            throw new TokenizerFormatException($"{file}: file not found");
        try
        {
            return JsonDocument.Parse(System.IO.File.ReadAllText(file));
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException($"{file}: not valid JSON ({e.Message})");
        }
    }
}
