namespace Federated.Core.Data;

/// <summary>
/// Token ids of BOS + prompt + completion + EOS. Loss and accuracy count only the tokens from
/// <see cref="PromptLength"/> on (the completion and EOS), predicted from everything before them.
/// </summary>
public sealed record TokenizedExample(int[] Tokens, int PromptLength)
{
    public int TargetCount => Tokens.Length - PromptLength;

    public static TokenizedExample From(TextExample example, int maxTokens)
    {
        var tokenizer = ByteTokenizer.Instance;
        var prompt = tokenizer.Encode(example.Prompt);
        var completion = tokenizer.Encode(example.Completion);
        var tokens = new List<int>(prompt.Length + completion.Length + 2) { ByteTokenizer.Bos };
        tokens.AddRange(prompt);
        var promptLength = tokens.Count;
        tokens.AddRange(completion);
        tokens.Add(ByteTokenizer.Eos);
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
}
