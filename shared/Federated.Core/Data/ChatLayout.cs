using Federated.Core.Tokenizers;

namespace Federated.Core.Data;

/// <summary>
/// Lays an example out in the fixed <see cref="ChatFormat.Raw"/> or <see cref="ChatFormat.Plain"/> layout (models
/// with a chat template use it instead: <see cref="TokenizedExample"/>), split into the prompt (read) and the
/// target (the final assistant reply and EOS, trained on). EOS is a marker rather than text, so it becomes the
/// tokenizer's id whatever its spelling.
/// </summary>
public static class ChatLayout
{
    /// <summary>Text, or (with empty text) the tokenizer's EOS id.</summary>
    public readonly record struct Piece(string Text, PieceMarker Marker = PieceMarker.None)
    {
        public static Piece Eos { get; } = new("", PieceMarker.Eos);
    }

    public enum PieceMarker
    {
        None,
        Eos,
    }

    public static (IReadOnlyList<Piece> Prompt, IReadOnlyList<Piece> Target) Render(TextExample example, ChatFormat format)
    {
        if (example.IsPlainText)
            return ([], [new(example.Completion), Piece.Eos]);
        var turns = (example.Context ?? []).Append(new ChatMessage(ChatRoles.User, example.Prompt)).ToList();
        foreach (var turn in turns)
        {
            if (turn.Role is not (ChatRoles.System or ChatRoles.User or ChatRoles.Assistant))
                throw new ArgumentException($"chat role '{turn.Role}' is not one of system, user, assistant");
        }
        var prompt = new List<Piece>();
        var reply = example.Completion;
        switch (format)
        {
            case ChatFormat.Raw:
                foreach (var turn in turns.SkipLast(1))
                    prompt.Add(new(turn.Content + "\n"));
                prompt.Add(new(example.Prompt));
                return (prompt, [new(reply), Piece.Eos]);
            case ChatFormat.Plain:
                foreach (var turn in turns)
                {
                    prompt.Add(new(turn.Role switch
                    {
                        ChatRoles.System => $"{turn.Content}\n\n",
                        ChatRoles.User => $"### Instruction:\n{turn.Content}\n\n",
                        _ => $"### Response:\n{turn.Content}\n\n",
                    }));
                }
                prompt.Add(new("### Response:\n"));
                return (prompt, [new(reply), Piece.Eos]);
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "not a fixed layout: a chat template is rendered by TokenizedExample");
        }
    }
}
