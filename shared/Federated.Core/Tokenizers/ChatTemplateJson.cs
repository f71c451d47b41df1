using System.Globalization;
using System.Text.Json;

namespace Federated.Core.Tokenizers;

/// <summary>
/// JSON values as a chat template takes them, the way Python's json.loads hands them to apply_chat_template:
/// objects become dictionaries in the file's key order, numbers with a fraction or exponent floats, others integers.
/// </summary>
public static class ChatTemplateJson
{
    public static object? ToValue(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => Number(element),
        JsonValueKind.Array => element.EnumerateArray().Select(ToValue).ToList(),
        JsonValueKind.Object => Object(element),
        _ => throw new ArgumentException($"a JSON {element.ValueKind} cannot be passed to a chat template"),
    };

    /// <summary>Messages: a non-empty JSON array of objects, each with a string "role"; errors name <paramref name="what"/> and the message's index.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, object?>> Messages(JsonElement messages, string what)
    {
        if (messages.ValueKind != JsonValueKind.Array)
            throw new ArgumentException($"{what} must be a JSON array of messages, got {messages.ValueKind}");
        var result = new List<IReadOnlyDictionary<string, object?>>();
        foreach (var message in messages.EnumerateArray())
        {
            var where = $"{what}[{result.Count}]";
            if (message.ValueKind != JsonValueKind.Object)
                throw new ArgumentException($"{where} must be an object with \"role\" and \"content\", got {message.ValueKind}");
            if (!message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                throw new ArgumentException($"{where} has no string \"role\"");
            result.Add(Object(message));
        }
        if (result.Count == 0)
            throw new ArgumentException($"{what} is empty");
        return result;
    }

    private static Dictionary<string, object?> Object(JsonElement element)
    {
        var result = new Dictionary<string, object?>();
        foreach (var property in element.EnumerateObject())
            result[property.Name] = ToValue(property.Value);
        return result;
    }

    private static object Number(JsonElement element)
    {
        var raw = element.GetRawText();
        if (raw.IndexOfAny(['.', 'e', 'E']) < 0 && element.TryGetInt64(out var integer))
            return integer;
        return double.Parse(raw, CultureInfo.InvariantCulture);
    }
}
