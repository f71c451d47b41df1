using Federated.Core.Data;

namespace Federated.Core.Tokenizers;

/// <summary>
/// How text becomes tokens for one base model: its tokenizer and the chat layout of its examples. Get one with
/// <see cref="Model.ModelCatalog.TextFormat"/>; it is immutable and safe to share between threads.
/// </summary>
public sealed record ModelTextFormat(ITextTokenizer Tokenizer, ChatFormat Format, string Description)
{
    /// <summary>The model's chat template; set where <see cref="Format"/> is <see cref="ChatFormat.Template"/>.</summary>
    public ModelChatTemplate? Template { get; init; }

    /// <summary>The built-in models' format: byte tokens, prompt and completion back to back.</summary>
    public static ModelTextFormat Builtin { get; } = new(ByteTokenizer.Instance, ChatFormat.Raw, "byte tokenizer, raw prompt + completion");

    public TokenizedExample Tokenize(TextExample example, int maxTokens) => TokenizedExample.From(example, Tokenizer, Format, maxTokens, Template);

    public IReadOnlyList<TokenizedExample> TokenizeAll(IEnumerable<TextExample> examples, int maxTokens)
        => TokenizedExample.FromAll(examples, Tokenizer, Format, maxTokens, Template);
}
