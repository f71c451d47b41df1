using System.Text.Json;
using System.Text.Json.Nodes;
using Federated.Core.Tokenizers;

namespace Federated.Core.Tests.Tokenizers;

/// <summary>
/// What `federated model tokenize` and `federated model chat` print (the commands call these handlers with the
/// console), on real tokenizer files against the transformers.js references.
/// </summary>
public sealed class ModelTextInspectionTests : IDisposable
{
    private readonly TemporaryDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Tokenize_prints_each_lines_ids_as_the_reference_with_and_without_special_tokens(bool special)
    {
        // Llama 3.1's post-processor adds <|begin_of_text|>, so --special changes every line.
        var (_, corpus, reference) = ReferenceTokenizerTests.Load("llama3_1");
        var input = WriteLines("texts.jsonl", corpus.Select(t => new JsonObject { ["text"] = t, ["id"] = 7 }.ToJsonString()));
        var lines = Lines(output => ModelTextInspection.Tokenize(Tokenizer("llama3_1"), input, special, output));
        var expected = reference.GetProperty(special ? "special" : "encode").EnumerateArray().ToList();
        Assert.Equal(corpus.Length, lines.Length);
        for (int i = 0; i < lines.Length; i++)
            Assert.Equal(ReferenceTokenizerTests.Ids(expected[i]), JsonSerializer.Deserialize<int[]>(lines[i]));
    }

    public static TheoryData<string, bool> ChatCases => new()
    {
        { "llama3_1", false }, { "llama3_1", true }, { "qwen3", false }, { "qwen3", true }, { "deepseek_v3", true },
    };

    [Theory]
    [MemberData(nameof(ChatCases))]
    public void Chat_prints_each_render_and_its_ids_as_apply_chat_template(string family, bool generationPrompt)
    {
        // The lines are the reference conversations, tool-call ones (with "tools") included where the family has them.
        var (_, _, reference) = ReferenceTokenizerTests.Load(family);
        var conversations = JsonNode.Parse(File.ReadAllText(Path.Combine(ReferenceTokenizerTests.ReferenceFolder, "conversations.json")))!.AsArray()
            .Where(c => c!["families"] is not JsonArray families || families.Any(f => f!.GetValue<string>() == family)).ToList();
        var input = WriteLines("chats.jsonl", conversations.Select(c => new JsonObject { ["messages"] = c!["messages"]!.DeepClone(), ["tools"] = c["tools"]?.DeepClone() }.ToJsonString()));
        var tokenizer = Tokenizer(family);
        var texts = Lines(output => ModelTextInspection.Chat(tokenizer, input, generationPrompt, ids: false, output));
        var ids = Lines(output => ModelTextInspection.Chat(tokenizer, input, generationPrompt, ids: true, output));
        var javaScript = reference.GetProperty("chats").EnumerateArray().ToDictionary(r => (r.GetProperty("name").GetString()!, r.GetProperty("generation").GetBoolean()));
        var python = ChatTemplateReferenceTests.PythonRenders(family).ToDictionary(r => (r.GetProperty("name").GetString()!, r.GetProperty("generation").GetBoolean()));
        Assert.Equal(conversations.Count, texts.Length);
        Assert.Equal(conversations.Count, ids.Length);
        for (int i = 0; i < conversations.Count; i++)
        {
            var key = (conversations[i]!["name"]!.GetValue<string>(), generationPrompt);
            var text = JsonSerializer.Deserialize<string>(texts[i])!;
            Assert.Equal(python[key].GetProperty("text").GetString(), text);
            var expectedIds = ChatTemplateReferenceTests.TransformersJsDiffers.Contains((family, key.Item1))
                ? tokenizer.Encode(text)
                : ReferenceTokenizerTests.Ids(javaScript[key].GetProperty("ids"));
            Assert.Equal(expectedIds, JsonSerializer.Deserialize<int[]>(ids[i]));
        }
    }

    [Fact]
    public void Output_is_one_line_of_json_per_input_line_and_blank_lines_are_skipped()
    {
        var input = WriteLines("texts.jsonl", ["{\"text\": \"a\\nb\"}", "", "   ", "{\"text\": \"日本 😀\"}"]);
        var tokenizer = Tokenizer("qwen3");
        var lines = Lines(output => ModelTextInspection.Tokenize(tokenizer, input, special: false, output));
        Assert.Equal(2, lines.Length);
        Assert.Equal(tokenizer.Encode("a\nb"), JsonSerializer.Deserialize<int[]>(lines[0]));

        var chat = WriteLines("chat.jsonl", ["{\"messages\": [{\"role\": \"user\", \"content\": \"日本\\n\\\"q\\\"\"}]}"]);
        var text = Assert.Single(Lines(output => ModelTextInspection.Chat(tokenizer, chat, generationPrompt: true, ids: false, output)));
        Assert.Contains("日本", text); // written as itself, not as \u escapes
        Assert.Equal("<|im_start|>user\n日本\n\"q\"<|im_end|>\n<|im_start|>assistant\n", JsonSerializer.Deserialize<string>(text));
    }

    [Fact]
    public void Bad_input_is_one_error_naming_the_file_and_line()
    {
        var tokenizer = Tokenizer("qwen3");
        var missing = _folder["missing.jsonl"];
        Assert.Equal($"{missing}: file not found", Error(() => ModelTextInspection.Tokenize(tokenizer, missing, false, TextWriter.Null)));

        var input = WriteLines("bad.jsonl", ["{\"text\": \"ok\"}", "", "{\"text\": \"unclosed"]);
        Assert.StartsWith($"{input}:3: not valid JSON", Error(() => ModelTextInspection.Tokenize(tokenizer, input, false, TextWriter.Null)));

        string Line(string json) => WriteLines("one.jsonl", [json]);
        Assert.Equal($"{Line("[1]")}:1: expected a JSON object, got Array", Error(() => ModelTextInspection.Tokenize(tokenizer, Line("[1]"), false, TextWriter.Null)));
        Assert.Equal($"{Line("{\"txt\": \"a\"}")}:1: has no \"text\" field", Error(() => ModelTextInspection.Tokenize(tokenizer, Line("{\"txt\": \"a\"}"), false, TextWriter.Null)));
        Assert.Equal($"{Line("{\"text\": 3}")}:1: \"text\" must be a JSON string, got number", Error(() => ModelTextInspection.Tokenize(tokenizer, Line("{\"text\": 3}"), false, TextWriter.Null)));

        void Chat(string json, string expected) => Assert.Equal($"{Line(json)}:1: {expected}", Error(() => ModelTextInspection.Chat(tokenizer, Line(json), false, false, TextWriter.Null)));
        Chat("{\"text\": \"a\"}", "has no \"messages\" field");
        Chat("{\"messages\": []}", "\"messages\" is empty");
        Chat("{\"messages\": [\"hi\"]}", "\"messages\"[0] must be an object with \"role\" and \"content\", got String");
        Chat("{\"messages\": [{\"content\": \"hi\"}]}", "\"messages\"[0] has no string \"role\"");
        Chat("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"tools\": {}}", "\"tools\" must be a JSON array, got Object");
        // Gemma's template raises on roles that do not alternate; the error is the template's, on the line.
        var gemma = Tokenizer("gemma3");
        var twoUsers = Line("{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"user\", \"content\": \"b\"}]}");
        Assert.Equal($"{twoUsers}:1: chat template raised: Conversation roles must alternate user/assistant/user/assistant/...", Error(() => ModelTextInspection.Chat(gemma, twoUsers, false, false, TextWriter.Null)));
    }

    [Fact]
    public void A_model_without_a_template_or_a_tokenizer_is_refused_by_name()
    {
        var chat = WriteLines("chat.jsonl", ["{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]);
        Assert.Contains("has no chat_template", Error(() => ModelTextInspection.Chat(Tokenizer("llama2"), chat, false, false, TextWriter.Null)));
        Assert.Equal($"{_folder["nope"]}: no such model directory", Error(() => ModelTextInspection.LoadTokenizer(_folder["nope"])));
        Directory.CreateDirectory(_folder["empty"]);
        Assert.StartsWith($"{_folder["empty"]}: has no tokenizer.json", Error(() => ModelTextInspection.LoadTokenizer(_folder["empty"])));
        File.WriteAllText(Path.Combine(_folder["empty"], "tokenizer.json"), "{ not json");
        Assert.Contains("not valid JSON", Error(() => ModelTextInspection.LoadTokenizer(_folder["empty"])));
    }

    private static HuggingFaceTokenizer Tokenizer(string family) => ReferenceTokenizerTests.Load(family).Tokenizer;

    private string WriteLines(string name, IEnumerable<string> lines)
    {
        File.WriteAllLines(_folder[name], lines);
        return _folder[name];
    }

    private static string[] Lines(Action<TextWriter> print)
    {
        using var output = new StringWriter();
        print(output);
        return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static string Error(Action action) => Assert.Throws<ArgumentException>(action).Message;
}
