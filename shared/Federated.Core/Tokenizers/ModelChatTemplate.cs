using Federated.Core.Data;
using Federated.Core.Tokenizers.Jinja;

namespace Federated.Core.Tokenizers;

/// <summary>
/// A model's own chat template (tokenizer_config.json's chat_template), evaluated by <see cref="JinjaTemplate"/>
/// with the variables apply_chat_template gives it: messages, tools, documents, add_generation_prompt and the
/// named special tokens.
/// </summary>
public sealed class ModelChatTemplate
{
    private readonly JinjaTemplate _template;
    private readonly Dictionary<string, object?> _tokens;

    private ModelChatTemplate(JinjaTemplate template, Dictionary<string, object?> tokens)
    {
        _template = template;
        _tokens = tokens;
    }

    /// <summary>Parses a template; a construct outside the supported subset is a <see cref="TokenizerFormatException"/> naming it and <paramref name="file"/>.</summary>
    public static ModelChatTemplate Parse(string source, string? bosToken, string? eosToken, string? padToken, string file)
    {
        try
        {
            var tokens = new Dictionary<string, object?>();
            if (bosToken is not null)
                tokens["bos_token"] = bosToken;
            if (eosToken is not null)
                tokens["eos_token"] = eosToken;
            if (padToken is not null)
                tokens["pad_token"] = padToken;
            return new ModelChatTemplate(JinjaTemplate.Parse(source), tokens);
        }
        catch (JinjaException e)
        {
            throw new TokenizerFormatException($"{file}: field \"chat_template\": {e.Message}");
        }
    }

    /// <summary>The text apply_chat_template(messages, tokenize=False, add_generation_prompt=…) gives.</summary>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
        => Render([.. messages.Select(m => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content })], addGenerationPrompt);

    /// <summary>
    /// The text apply_chat_template(messages, tools=…, tokenize=False, add_generation_prompt=…) gives, for messages
    /// as Hugging Face takes them: any fields (content null or a list of parts, tool_calls, reasoning_content, …),
    /// values being strings, numbers, bools, null, lists and string-keyed dictionaries (<see cref="ChatTemplateJson"/>
    /// makes them from JSON). Without <paramref name="tools"/> the template sees tools as none, as both Hugging Face
    /// implementations pass it. A render error (raise_exception, a type error) is an <see cref="ArgumentException"/>.
    /// </summary>
    public string Render(IReadOnlyList<IReadOnlyDictionary<string, object?>> messages, bool addGenerationPrompt, IReadOnlyList<object?>? tools = null)
    {
        var variables = new Dictionary<string, object?>(_tokens)
        {
            ["messages"] = messages,
            ["tools"] = tools,
            ["documents"] = null,
            ["add_generation_prompt"] = addGenerationPrompt,
        };
        try
        {
            return _template.Render(variables);
        }
        catch (JinjaException e)
        {
            throw new ArgumentException(e.Message, e);
        }
    }
}
