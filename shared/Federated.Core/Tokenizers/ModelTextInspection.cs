using System.Text.Encodings.Web;
using System.Text.Json;

namespace Federated.Core.Tokenizers;

/// <summary>
/// What `federated model tokenize` and `federated model chat` print: a JSONL file read line by line, each line's
/// ids or chat render written as one line of JSON, as Hugging Face's tokenizer(text, add_special_tokens=…) and
/// apply_chat_template(messages, tools=…, tokenize=…, add_generation_prompt=…) give them. Blank lines are skipped.
/// Every error is an <see cref="ArgumentException"/> naming the file and, for a bad line, its number.
/// </summary>
public static class ModelTextInspection
{
    // Readable output: non-ASCII text is written as itself, not as \u escapes.
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The tokenizer of a model directory (tokenizer.json, with tokenizer_config.json beside it when there is one).</summary>
    public static HuggingFaceTokenizer LoadTokenizer(string modelDirectory)
    {
        if (!Directory.Exists(modelDirectory))
            throw new ArgumentException($"{modelDirectory}: no such model directory");
        if (!File.Exists(Path.Combine(modelDirectory, HuggingFaceTokenizer.TokenizerFile)))
            throw new ArgumentException($"{modelDirectory}: has no {HuggingFaceTokenizer.TokenizerFile}; copy the model's {HuggingFaceTokenizer.TokenizerFile} and {HuggingFaceTokenizer.ConfigFile} into it");
        try
        {
            return HuggingFaceTokenizer.Load(modelDirectory);
        }
        catch (TokenizerFormatException e)
        {
            throw new ArgumentException(e.Message, e);
        }
    }

    /// <summary>Lines of {"text": "…"} to JSON arrays of ids; <paramref name="special"/> adds the post-processor's tokens (add_special_tokens=True).</summary>
    public static void Tokenize(HuggingFaceTokenizer tokenizer, string file, bool special, TextWriter output)
    {
        foreach (var (number, line) in Records(file))
        {
            var text = Field(line, "text", JsonValueKind.String, file, number).GetString()!;
            var ids = special ? tokenizer.EncodeWithSpecialTokens(text) : tokenizer.Encode(text);
            output.WriteLine(JsonSerializer.Serialize(ids, Json));
        }
    }

    /// <summary>
    /// Lines of {"messages": […], "tools": […]?} rendered with the model's chat template, written as a JSON string,
    /// or with <paramref name="ids"/> as the JSON array of the render's ids (tokenize=True, which adds no special tokens).
    /// </summary>
    public static void Chat(HuggingFaceTokenizer tokenizer, string file, bool generationPrompt, bool ids, TextWriter output)
    {
        var template = tokenizer.Template
            ?? throw new ArgumentException($"the model's {HuggingFaceTokenizer.ConfigFile} has no chat_template (training lays such a model's examples out with the plain \"### Instruction:\" fallback)");
        foreach (var (number, line) in Records(file))
        {
            string text;
            try
            {
                var messages = ChatTemplateJson.Messages(Field(line, "messages", JsonValueKind.Array, file, number), "\"messages\"");
                IReadOnlyList<object?>? tools = null;
                if (line.TryGetProperty("tools", out var toolsField) && toolsField.ValueKind != JsonValueKind.Null)
                {
                    tools = toolsField.ValueKind == JsonValueKind.Array
                        ? (List<object?>)ChatTemplateJson.ToValue(toolsField)!
                        : throw new ArgumentException($"\"tools\" must be a JSON array, got {toolsField.ValueKind}");
                }
                text = template.Render(messages, generationPrompt, tools);
            }
            catch (ArgumentException e) when (!e.Message.StartsWith(file + ":", StringComparison.Ordinal))
            {
                throw new ArgumentException($"{file}:{number}: {e.Message}", e);
            }
            output.WriteLine(ids ? JsonSerializer.Serialize(tokenizer.Encode(text), Json) : JsonSerializer.Serialize(text, Json));
        }
    }

    /// <summary>Each non-blank line of a JSONL file as a JSON object, with its 1-based line number.</summary>
    private static IEnumerable<(int Number, JsonElement Record)> Records(string file)
    {
        if (!File.Exists(file))
            throw new ArgumentException($"{file}: file not found");
        int number = 0;
        foreach (var line in File.ReadLines(file))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            JsonElement record;
            try
            {
                using var document = JsonDocument.Parse(line);
                record = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                // System.Text.Json's message ends with its own 0-based position; the column is said once, 1-based.
                var reason = e.Message.Split(" LineNumber:")[0].TrimEnd();
                throw new ArgumentException($"{file}:{number}: not valid JSON at column {e.BytePositionInLine + 1} ({reason})", e);
            }
            if (record.ValueKind != JsonValueKind.Object)
                throw new ArgumentException($"{file}:{number}: expected a JSON object, got {record.ValueKind}");
            yield return (number, record);
        }
    }

    private static JsonElement Field(JsonElement record, string name, JsonValueKind kind, string file, int number)
    {
        if (!record.TryGetProperty(name, out var value))
            throw new ArgumentException($"{file}:{number}: has no \"{name}\" field");
        return value.ValueKind == kind ? value : throw new ArgumentException($"{file}:{number}: \"{name}\" must be a JSON {kind.ToString().ToLowerInvariant()}, got {value.ValueKind.ToString().ToLowerInvariant()}");
    }
}
