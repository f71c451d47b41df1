using System.Text;
using Federated.Core.Tokenizers;

namespace Federated.Core.Data;

/// <summary>
/// Token ids of BOS + prompt + completion + EOS. Loss and accuracy count only the tokens from
/// <see cref="PromptLength"/> on (the completion and EOS), predicted from everything before them.
/// </summary>
public sealed record TokenizedExample(int[] Tokens, int PromptLength)
{
    public int TargetCount => Tokens.Length - PromptLength;

    /// <summary>The built-in layout: byte tokens, prompt and completion back to back (<see cref="ChatFormat.Raw"/>).</summary>
    public static TokenizedExample From(TextExample example, int maxTokens)
        => From(example, ByteTokenizer.Instance, ChatFormat.Raw, maxTokens);

    /// <summary>
    /// Lays the example out in <paramref name="format"/> and tokenizes it, BOS first where the tokenizer has one.
    /// The prompt/target boundary is where the tokens of the prompt alone stop matching those of the whole text,
    /// so a BPE merge across the boundary cannot shift it. Plain-text examples are trained on every token.
    /// </summary>
    public static TokenizedExample From(TextExample example, ITextTokenizer tokenizer, ChatFormat format, int maxTokens, ModelChatTemplate? template = null)
    {
        if (format == ChatFormat.Template && !example.IsPlainText)
            return FromTemplate(example, tokenizer, template ?? throw new ArgumentNullException(nameof(template), "the Template chat format needs the model's chat template"), maxTokens);
        var (prompt, target) = ChatLayout.Render(example, format);
        var promptIds = Encode(tokenizer, prompt);
        var allIds = Encode(tokenizer, [.. prompt, .. target]);
        int shared = 0;
        while (shared < promptIds.Count && shared < allIds.Count && promptIds[shared] == allIds[shared])
            shared++;
        var tokens = new List<int>(allIds.Count + 1);
        if (tokenizer.BosId is { } bos)
            tokens.Add(bos);
        tokens.AddRange(allIds);
        // The first token is never a target: nothing comes before it to predict it from.
        var promptLength = Math.Max(1, tokens.Count - allIds.Count + shared);
        return Fit(tokens, promptLength, maxTokens);
    }

    private static TokenizedExample Fit(List<int> tokens, int promptLength, int maxTokens)
    {
        if (tokens.Count > maxTokens)
        {
            if (promptLength >= maxTokens)
                throw new ArgumentException($"example prompt of {promptLength} tokens does not fit the {maxTokens}-token sequence limit");
            tokens.RemoveRange(maxTokens, tokens.Count - maxTokens);
        }
        return new TokenizedExample([.. tokens], promptLength);
    }

    /// <summary>
    /// Renders the conversation with the model's own template, as apply_chat_template does (the template writes
    /// any BOS itself, so none is added). The target is the final assistant message's span: it starts where the
    /// render with the reply stops agreeing with the render of the conversation before it plus the generation
    /// prompt, and ends after the reply's text and the one added token right after it (its end-of-turn marker,
    /// such as &lt;|im_end|&gt; or &lt;|eot_id|&gt;). What the template writes after that is not needed to predict
    /// the reply and is left out. Where the template changes the reply's text so it cannot be found, the target
    /// runs to the end of the render.
    /// </summary>
    private static TokenizedExample FromTemplate(TextExample example, ITextTokenizer tokenizer, ModelChatTemplate template, int maxTokens)
    {
        var history = (example.Context ?? []).Append(new ChatMessage(ChatRoles.User, example.Prompt)).ToList();
        var promptText = template.Render(history, addGenerationPrompt: true);
        var fullText = template.Render([.. history, new ChatMessage(ChatRoles.Assistant, example.Completion)], addGenerationPrompt: false);
        int start = 0;
        while (start < promptText.Length && start < fullText.Length && promptText[start] == fullText[start])
            start++;
        int end = TargetEnd(fullText, start, example.Completion, tokenizer);
        var allIds = tokenizer.Encode(fullText);
        int promptLength = SharedPrefix(tokenizer.Encode(fullText[..start]), allIds);
        int targetEnd = end == fullText.Length ? allIds.Length : SharedPrefix(tokenizer.Encode(fullText[..end]), allIds);
        // The first token is never a target: nothing comes before it to predict it from.
        return Fit([.. allIds.Take(Math.Max(targetEnd, promptLength + 1))], Math.Max(1, promptLength), maxTokens);
    }

    private static int TargetEnd(string text, int start, string reply, ITextTokenizer tokenizer)
    {
        var trimmed = reply.Trim();
        int at = trimmed.Length == 0 ? start : text.IndexOf(trimmed, start, StringComparison.Ordinal);
        if (at < 0)
            return text.Length;
        int end = at + trimmed.Length;
        int next = end;
        while (next < text.Length && char.IsWhiteSpace(text[next]))
            next++;
        if (tokenizer is HuggingFaceTokenizer hf && hf.AddedTokenAt(text, next) is { } marker)
            return next + marker.Length;
        return end;
    }

    private static int SharedPrefix(int[] a, int[] b)
    {
        int n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n])
            n++;
        return n;
    }

    public static IReadOnlyList<TokenizedExample> FromAll(IEnumerable<TextExample> examples, int maxTokens)
        => examples.Select(e => From(e, maxTokens)).ToList();

    public static IReadOnlyList<TokenizedExample> FromAll(IEnumerable<TextExample> examples, ITextTokenizer tokenizer, ChatFormat format, int maxTokens, ModelChatTemplate? template = null)
        => examples.Select(e => From(e, tokenizer, format, maxTokens, template)).ToList();

    private static List<int> Encode(ITextTokenizer tokenizer, IReadOnlyList<ChatLayout.Piece> pieces)
    {
        var ids = new List<int>();
        var text = new StringBuilder();
        foreach (var piece in pieces)
        {
            if (piece.Marker == ChatLayout.PieceMarker.None)
            {
                text.Append(piece.Text);
                continue;
            }
            if (text.Length > 0)
                ids.AddRange(tokenizer.Encode(text.ToString()));
            text.Clear();
            ids.Add(tokenizer.EosId);
        }
        if (text.Length > 0)
            ids.AddRange(tokenizer.Encode(text.ToString()));
        return ids;
    }
}
