using Federated.Core.Tokenizers;

namespace Federated.Core.Data;

/// <summary>
/// Lays an example out in a <see cref="ChatFormat"/>, as the matching Jinja templates would, split into the
/// prompt (read) and the target (the final assistant reply and its end marker, trained on). BOS and EOS are
/// markers rather than text, so they become the tokenizer's ids whatever their spelling.
/// </summary>
public static class ChatLayout
{
    /// <summary>Text, or (with empty text) the tokenizer's BOS or EOS id.</summary>
    public readonly record struct Piece(string Text, PieceMarker Marker = PieceMarker.None)
    {
        public static Piece Bos { get; } = new("", PieceMarker.Bos);

        public static Piece Eos { get; } = new("", PieceMarker.Eos);
    }

    public enum PieceMarker
    {
        None,
        Bos,
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
            case ChatFormat.ChatMl:
                foreach (var turn in turns)
                    prompt.Add(new($"<|im_start|>{turn.Role}\n{turn.Content}<|im_end|>\n"));
                prompt.Add(new("<|im_start|>assistant\n"));
                return (prompt, [new(reply + "<|im_end|>")]);
            case ChatFormat.Llama3:
                foreach (var turn in turns)
                    prompt.Add(new($"<|start_header_id|>{turn.Role}<|end_header_id|>\n\n{turn.Content}<|eot_id|>"));
                prompt.Add(new("<|start_header_id|>assistant<|end_header_id|>\n\n"));
                return (prompt, [new(reply + "<|eot_id|>")]);
            case ChatFormat.Llama2:
                return (Llama2(turns), [new($" {reply} "), Piece.Eos]);
            case ChatFormat.Zephyr:
                foreach (var turn in turns)
                {
                    prompt.Add(new($"<|{turn.Role}|>\n{turn.Content}"));
                    prompt.Add(Piece.Eos);
                    prompt.Add(new("\n"));
                }
                prompt.Add(new("<|assistant|>\n"));
                return (prompt, [new(reply), Piece.Eos]);
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "unknown chat format");
        }
    }

    /// <summary>Llama 2: the system prompt sits inside the first [INST]; each earlier exchange ends with EOS, and the next starts with BOS.</summary>
    private static List<Piece> Llama2(List<ChatMessage> turns)
    {
        var pieces = new List<Piece>();
        string? system = turns[0].Role == ChatRoles.System ? turns[0].Content : null;
        bool first = true;
        foreach (var turn in turns.Where(t => t.Role != ChatRoles.System))
        {
            if (turn.Role == ChatRoles.User)
            {
                if (!first)
                    pieces.Add(Piece.Bos);
                var content = first && system is not null ? $"<<SYS>>\n{system}\n<</SYS>>\n\n{turn.Content}" : turn.Content;
                pieces.Add(new($"[INST] {content} [/INST]"));
                first = false;
            }
            else
            {
                pieces.Add(new($" {turn.Content} "));
                pieces.Add(Piece.Eos);
            }
        }
        return pieces;
    }
}
