using System.Text.Json;

namespace Federated.Core.Data;

/// <summary>The record layouts a JSONL dataset file may use; one file uses one.</summary>
public enum JsonlFormat
{
    /// <summary>{"prompt", "completion"}.</summary>
    PromptCompletion,

    /// <summary>Alpaca: {"instruction", "input" (optional), "output"}.</summary>
    Alpaca,

    /// <summary>Dolly: {"instruction", "context" (optional), "response", "category"}.</summary>
    Dolly,

    /// <summary>{"messages": [{"role", "content"}, ...]} ending with an assistant turn.</summary>
    Chat,

    /// <summary>{"text"}: language-model loss on every token.</summary>
    Text,
}

/// <summary>
/// Reads supervised examples from JSON Lines, one object per line, in any <see cref="JsonlFormat"/>: the first
/// record's fields decide the file's format, and every record must then use it. All formats may carry a string
/// "category". Blank lines are skipped.
/// </summary>
public static class JsonlExamples
{
    public static IReadOnlyList<TextExample> Load(string path) => LoadWithFormat(path).Examples;

    public static (IReadOnlyList<TextExample> Examples, JsonlFormat Format) LoadWithFormat(string path)
    {
        if (!File.Exists(path))
            throw new DataFormatException($"{path}: file not found");
        var examples = new List<TextExample>();
        JsonlFormat? format = null;
        int formatLine = 0, lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var record = new Record(path, lineNumber);
            using var document = record.Parse(line);
            try
            {
                var root = document.RootElement;
                var detected = Detect(root);
                if (format is null)
                {
                    format = detected ?? throw record.Error($"cannot tell the record format from its fields ({string.Join(", ", root.EnumerateObject().Select(p => p.Name))}); expected prompt/completion, instruction/input/output (Alpaca), instruction/context/response (Dolly), messages (chat) or text");
                    formatLine = lineNumber;
                }
                else if (detected is { } other && other != format)
                {
                    throw record.Error($"field \"{KeyField(other)}\" makes this a {other} record, but the file is {format} (from line {formatLine})");
                }
                examples.Add(record.Read(root, format.Value));
            }
            catch (InvalidOperationException e)
            {
                // A \u escape naming a lone surrogate is refused only as its string is read.
                throw record.Error($"holds a string that is not valid UTF-16 ({e.Message})");
            }
        }
        if (examples.Count == 0)
            throw new DataFormatException($"{path}: no examples");
        return (examples, format!.Value);
    }

    /// <summary>All examples of every *.jsonl file in a folder (sorted by name), or of one file.</summary>
    public static IReadOnlyList<TextExample> LoadPath(string path) => FilesOf(path).SelectMany(Load).ToList();

    /// <summary>The files <see cref="LoadPath"/> reads: the file itself, or a folder's *.jsonl files sorted by name.</summary>
    public static IReadOnlyList<string> FilesOf(string path)
    {
        if (File.Exists(path))
            return [path];
        if (!Directory.Exists(path))
            throw new DataFormatException($"{path}: no such file or folder");
        var files = Directory.GetFiles(path, "*.jsonl").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new DataFormatException($"{path}: folder holds no *.jsonl files");
        return files;
    }

    /// <summary>Writes prompt/completion records, or text or chat records where the examples are of those kinds (one kind a file).</summary>
    public static void Write(string path, IEnumerable<TextExample> examples)
    {
        using var writer = new StreamWriter(path);
        JsonlFormat? format = null;
        foreach (var example in examples)
        {
            var kind = example.IsPlainText ? JsonlFormat.Text : example.Context is not null ? JsonlFormat.Chat : JsonlFormat.PromptCompletion;
            format ??= kind;
            if (kind != format)
                throw new ArgumentException($"cannot write a {kind} example into a {format} file: one file holds one kind of example", nameof(examples));
            var record = new Dictionary<string, object>();
            switch (kind)
            {
                case JsonlFormat.Text:
                    record["text"] = example.Completion;
                    break;
                case JsonlFormat.Chat:
                    record["messages"] = example.Context!
                        .Append(new ChatMessage(ChatRoles.User, example.Prompt))
                        .Append(new ChatMessage(ChatRoles.Assistant, example.Completion))
                        .Select(m => new Dictionary<string, string> { ["role"] = m.Role, ["content"] = m.Content })
                        .ToList();
                    break;
                default:
                    record["prompt"] = example.Prompt;
                    record["completion"] = example.Completion;
                    break;
            }
            if (example.Category.Length > 0)
                record["category"] = example.Category;
            writer.WriteLine(JsonSerializer.Serialize(record));
        }
    }

    /// <summary>The format a record's fields point to, or null when they point to none.</summary>
    private static JsonlFormat? Detect(JsonElement root)
    {
        bool Has(string field) => root.TryGetProperty(field, out _);
        if (Has("messages"))
            return JsonlFormat.Chat;
        if (Has("text"))
            return JsonlFormat.Text;
        if (Has("output"))
            return JsonlFormat.Alpaca;
        if (Has("response"))
            return JsonlFormat.Dolly;
        if (Has("prompt") || Has("completion"))
            return JsonlFormat.PromptCompletion;
        return null;
    }

    private static string KeyField(JsonlFormat format) => format switch
    {
        JsonlFormat.Chat => "messages",
        JsonlFormat.Text => "text",
        JsonlFormat.Alpaca => "output",
        JsonlFormat.Dolly => "response",
        _ => "prompt",
    };

    /// <summary>One line of a file: parses it and names the file and line in every error.</summary>
    private readonly struct Record(string path, int line)
    {
        public DataFormatException Error(string problem) => new($"{path} line {line}: {problem}", $"{path} line {line}");

        public JsonDocument Parse(string text)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(text);
            }
            catch (JsonException e)
            {
                throw Error($"not valid JSON ({e.Message})");
            }
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw Error("expected a JSON object (for example with \"prompt\" and \"completion\")");
            }
            return document;
        }

        public TextExample Read(JsonElement root, JsonlFormat format)
        {
            var category = OptionalString(root, "category") ?? "";
            switch (format)
            {
                case JsonlFormat.Alpaca:
                    return new TextExample(WithInput(RequiredString(root, "instruction"), OptionalString(root, "input")), RequiredString(root, "output"), category);
                case JsonlFormat.Dolly:
                    return new TextExample(WithInput(RequiredString(root, "instruction"), OptionalString(root, "context")), RequiredString(root, "response"), category);
                case JsonlFormat.Text:
                    return TextExample.PlainText(RequiredString(root, "text"), category);
                case JsonlFormat.Chat:
                    return Chat(root, category);
                default:
                    return new TextExample(RequiredString(root, "prompt"), RequiredString(root, "completion"), category);
            }
        }

        private static string WithInput(string instruction, string? input) => string.IsNullOrEmpty(input) ? instruction : $"{instruction}\n\n{input}";

        private TextExample Chat(JsonElement root, string category)
        {
            var messages = root.GetProperty("messages");
            if (messages.ValueKind != JsonValueKind.Array)
                throw Error($"field \"messages\" must be an array, got {messages.ValueKind}");
            var turns = new List<ChatMessage>();
            int i = 0;
            foreach (var message in messages.EnumerateArray())
            {
                var field = $"messages[{i}]";
                if (message.ValueKind != JsonValueKind.Object)
                    throw Error($"field \"{field}\" must be an object with \"role\" and \"content\", got {message.ValueKind}");
                var role = RequiredString(message, "role", field + ".");
                if (role is not (ChatRoles.System or ChatRoles.User or ChatRoles.Assistant))
                    throw Error($"field \"{field}.role\" is \"{role}\"; expected system, user or assistant");
                if (role == ChatRoles.System && i > 0)
                    throw Error($"field \"{field}.role\" is system, which may only be the first message");
                turns.Add(new ChatMessage(role, RequiredString(message, "content", field + ".")));
                i++;
            }
            if (turns.Count < 2 || turns[^1].Role != ChatRoles.Assistant)
                throw Error("field \"messages\" must end with an assistant message that answers a user message");
            if (turns[^2].Role != ChatRoles.User)
                throw Error($"field \"messages[{turns.Count - 2}].role\" is {turns[^2].Role}, but the final assistant message must answer a user message");
            return new TextExample(turns[^2].Content, turns[^1].Content, category) { Context = turns[..^2] };
        }

        private string RequiredString(JsonElement root, string field, string prefix = "")
            => OptionalString(root, field, prefix) ?? throw Error($"missing field \"{prefix}{field}\"");

        private string? OptionalString(JsonElement root, string field, string prefix = "")
        {
            if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
                return null;
            if (value.ValueKind != JsonValueKind.String)
                throw Error($"field \"{prefix}{field}\" must be a string, got {value.ValueKind}");
            return value.GetString()!;
        }
    }
}
