using System.Text.Json;
using Federated.Core.Data;
using Federated.Core.Tokenizers;

namespace Federated.Core.Tests.Tokenizers;

/// <summary>
/// Each family's own chat_template rendered on the conversations of reference/conversations.mjs (tool-call ones for
/// the families whose templates have a tool path), with and without the generation prompt: the text equals
/// Python's apply_chat_template (reference/python_renders.py) and transformers.js's wherever the two agree, and
/// the ids equal transformers.js's.
/// </summary>
public sealed class ChatTemplateReferenceTests
{
    public static TheoryData<string> TemplatedFamilies => new() { "llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3" };

    // Where transformers.js renders differently from Python, Python is followed (it is what the models were
    // trained and are served with). Qwen3 "multi": @huggingface/jinja ignores the argument of lstrip('\n') and
    // strips the reply's leading space too; Python's Jinja keeps it.
    internal static readonly HashSet<(string Family, string Conversation)> TransformersJsDiffers = [("qwen3", "multi")];

    [Theory]
    [MemberData(nameof(TemplatedFamilies))]
    public void Renders_equal_apply_chat_template_and_ids_equal_transformers_js(string family)
    {
        var (tokenizer, _, reference) = ReferenceTokenizerTests.Load(family);
        var template = tokenizer.Template ?? throw new InvalidOperationException($"{family} has no chat template");
        var conversations = Conversations(family);
        var renders = reference.GetProperty("chats").EnumerateArray().ToList();
        var python = PythonRenders(family);
        Assert.Equal(conversations.Count * 2, renders.Count);
        Assert.Equal(renders.Count, python.Count);
        for (int i = 0; i < renders.Count; i++)
        {
            var render = renders[i];
            var name = render.GetProperty("name").GetString()!;
            var generation = render.GetProperty("generation").GetBoolean();
            Assert.Equal((name, generation), (python[i].GetProperty("name").GetString(), python[i].GetProperty("generation").GetBoolean()));
            var (messages, tools) = conversations[name];
            var text = template.Render(messages, generation, tools);
            var expected = python[i].GetProperty("text").GetString()!;
            Assert.True(expected == text, $"{family} {name} (generation prompt {generation}): expected {JsonSerializer.Serialize(expected)}, got {JsonSerializer.Serialize(text)}");
            var javaScript = render.GetProperty("text").GetString()!;
            if (TransformersJsDiffers.Contains((family, name)))
            {
                Assert.NotEqual(javaScript, expected); // a fixed transformers.js would make this entry stale
                continue;
            }
            Assert.Equal(javaScript, expected);
            Assert.Equal(ReferenceTokenizerTests.Ids(render.GetProperty("ids")), tokenizer.Encode(text));
        }
    }

    [Fact]
    public void Tool_call_conversations_are_rendered_for_the_templates_with_a_tool_path()
    {
        // Qwen3: tools listed in the system turn, calls as <tool_call> JSON, results as <tool_response> in a user turn.
        var qwen = PythonRenders("qwen3").Select(r => r.GetProperty("name").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "tool-call", "tool-parallel", "tool-multi-step" }, qwen);
        var deepSeek = PythonRenders("deepseek_v3").Select(r => r.GetProperty("name").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "ds-tool-call", "ds-tool-parallel" }, deepSeek);
        var (tokenizer, _, _) = ReferenceTokenizerTests.Load("qwen3");
        var (messages, tools) = Conversations("qwen3")["tool-call"];
        var text = tokenizer.Template!.Render(messages, addGenerationPrompt: false, tools);
        Assert.Contains("{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\", \"days\": 1}}", text);
        Assert.Contains("\"description\": \"City name, e.g. \\\"Zürich\\\" or 東京\"", text); // tojson keeps non-ASCII, escapes quotes
        Assert.DoesNotContain("# Tools", tokenizer.Template.Render(messages, addGenerationPrompt: false));
    }

    [Fact]
    public void Llama2_has_no_template_and_keeps_the_plain_fallback()
    {
        var (tokenizer, _, _) = ReferenceTokenizerTests.Load("llama2");
        Assert.Null(tokenizer.Template);
        Assert.Equal(ChatFormat.Plain, tokenizer.ChatFormat);
    }

    [Theory]
    [MemberData(nameof(TemplatedFamilies))]
    public void Training_targets_are_the_final_reply_and_its_end_of_turn_marker(string family)
    {
        var (tokenizer, _, _) = ReferenceTokenizerTests.Load(family);
        var example = new TextExample("What is 2 + 2?", "2 + 2 = 4.")
        {
            Context = [new(ChatRoles.System, "You are terse."), new(ChatRoles.User, "Hi"), new(ChatRoles.Assistant, "Hello.")],
        };
        var tokenized = TokenizedExample.From(example, tokenizer, ChatFormat.Template, 4096, tokenizer.Template);
        var prompt = tokenizer.Decode(tokenized.Tokens[..tokenized.PromptLength]);
        var target = tokenized.Tokens[tokenized.PromptLength..];
        // The target is the reply (Qwen3 puts its empty think block before it) and one end-of-turn marker.
        var endOfTurn = tokenizer.TokenId(family switch
        {
            "qwen3" => "<|im_end|>",
            "gemma3" => "<end_of_turn>",
            "deepseek_v3" => "<｜end▁of▁sentence｜>",
            _ => "<|eot_id|>",
        });
        Assert.Equal(endOfTurn, target[^1]);
        Assert.Equal(family == "qwen3" ? "<think>\n\n</think>\n\n2 + 2 = 4." : "2 + 2 = 4.", tokenizer.Decode(target[..^1]));
        Assert.Contains("What is 2 + 2?", prompt);
        Assert.Contains("Hello.", prompt);
        // The whole example is the template's render with the reply, cut after the marker.
        var full = tokenizer.Template!.Render([.. example.Context, new(ChatRoles.User, example.Prompt), new(ChatRoles.Assistant, example.Completion)], addGenerationPrompt: false);
        Assert.Equal(tokenized.Tokens, tokenizer.Encode(full)[..tokenized.Tokens.Length]);
    }

    /// <summary>The conversations rendered for <paramref name="family"/>: messages as JSON gives them, and the tools, if any.</summary>
    private static Dictionary<string, (IReadOnlyList<IReadOnlyDictionary<string, object?>> Messages, IReadOnlyList<object?>? Tools)> Conversations(string family)
    {
        var json = File.ReadAllText(Path.Combine(ReferenceTokenizerTests.ReferenceFolder, "conversations.json"));
        var result = new Dictionary<string, (IReadOnlyList<IReadOnlyDictionary<string, object?>>, IReadOnlyList<object?>?)>();
        foreach (var conversation in JsonDocument.Parse(json).RootElement.EnumerateArray())
        {
            if (conversation.TryGetProperty("families", out var families) && !families.EnumerateArray().Any(f => f.GetString() == family))
                continue;
            var tools = conversation.TryGetProperty("tools", out var t) ? (List<object?>?)ChatTemplateJson.ToValue(t) : null;
            result[conversation.GetProperty("name").GetString()!] = (ChatTemplateJson.Messages(conversation.GetProperty("messages"), "messages"), tools);
        }
        return result;
    }

    internal static List<JsonElement> PythonRenders(string family)
        => [.. JsonDocument.Parse(File.ReadAllText(Path.Combine(ReferenceTokenizerTests.ReferenceFolder, "python-renders.json"))).RootElement.GetProperty(family).EnumerateArray()];
}
