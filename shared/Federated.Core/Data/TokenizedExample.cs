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
    public static TokenizedExample From(TextExample example, ITextTokenizer tokenizer, ChatFormat format, int maxTokens)
    {
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
        if (tokens.Count > maxTokens)
        {
            if (promptLength >= maxTokens)
                throw new ArgumentException($"example prompt of {promptLength} tokens does not fit the {maxTokens}-token sequence limit");
            tokens.RemoveRange(maxTokens, tokens.Count - maxTokens);
        }
        return new TokenizedExample([.. tokens], promptLength);
    }

    public static IReadOnlyList<TokenizedExample> FromAll(IEnumerable<TextExample> examples, int maxTokens)
        => examples.Select(e => From(e, maxTokens)).ToList();

    public static IReadOnlyList<TokenizedExample> FromAll(IEnumerable<TextExample> examples, ITextTokenizer tokenizer, ChatFormat format, int maxTokens)
        => examples.Select(e => From(e, tokenizer, format, maxTokens)).ToList();

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
            if (piece.Marker == ChatLayout.PieceMarker.Eos)
                ids.Add(tokenizer.EosId);
            else if (tokenizer.BosId is { } bos)
                ids.Add(bos);
        }
        if (text.Length > 0)
            ids.AddRange(tokenizer.Encode(text.ToString()));
        return ids;
    }
}
