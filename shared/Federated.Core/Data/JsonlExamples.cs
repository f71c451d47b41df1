using System.Text.Json;

namespace Federated.Core.Data;

/// <summary>
/// Reads supervised examples from JSON Lines: one object per line with string fields "prompt" and
/// "completion", and optionally "category". Blank lines are skipped.
/// </summary>
public static class JsonlExamples
{
    public static IReadOnlyList<TextExample> Load(string path)
    {
        if (!File.Exists(path))
            throw new DataFormatException($"{path}: file not found");
        var examples = new List<TextExample>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            examples.Add(Parse(line, path, lineNumber));
        }
        if (examples.Count == 0)
            throw new DataFormatException($"{path}: no examples");
        return examples;
    }

    /// <summary>All examples of every *.jsonl file in a folder (sorted by name), or of one file.</summary>
    public static IReadOnlyList<TextExample> LoadPath(string path)
    {
        if (File.Exists(path))
            return Load(path);
        if (!Directory.Exists(path))
            throw new DataFormatException($"{path}: no such file or folder");
        var files = Directory.GetFiles(path, "*.jsonl").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new DataFormatException($"{path}: folder holds no *.jsonl files");
        return files.SelectMany(Load).ToList();
    }

    public static void Write(string path, IEnumerable<TextExample> examples)
    {
        using var writer = new StreamWriter(path);
        foreach (var example in examples)
        {
            var record = new Dictionary<string, string> { ["prompt"] = example.Prompt, ["completion"] = example.Completion };
            if (example.Category.Length > 0)
                record["category"] = example.Category;
            writer.WriteLine(JsonSerializer.Serialize(record));
        }
    }

    private static TextExample Parse(string line, string path, int lineNumber)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new DataFormatException($"{path} line {lineNumber}: not valid JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new DataFormatException($"{path} line {lineNumber}: expected a JSON object with \"prompt\" and \"completion\"");
            return new TextExample(
                RequiredString(root, "prompt", path, lineNumber),
                RequiredString(root, "completion", path, lineNumber),
                root.TryGetProperty("category", out var category) && category.ValueKind == JsonValueKind.String ? category.GetString()! : "");
        }
    }

    private static string RequiredString(JsonElement root, string field, string path, int lineNumber)
    {
        if (!root.TryGetProperty(field, out var value))
            throw new DataFormatException($"{path} line {lineNumber}: missing field \"{field}\"");
        if (value.ValueKind != JsonValueKind.String)
            throw new DataFormatException($"{path} line {lineNumber}: field \"{field}\" must be a string, got {value.ValueKind}");
        return value.GetString()!;
    }
}
