namespace Federated.Core.Data;

/// <summary>One supervised example: the model reads the prompt and learns to produce the completion.</summary>
public sealed record TextExample(string Prompt, string Completion, string Category = "")
{
    /// <summary>
    /// Earlier turns of a conversation (system, user, assistant) before the final user <see cref="Prompt"/>;
    /// null for single-turn examples. Only the final assistant turn, <see cref="Completion"/>, is trained on.
    /// </summary>
    public IReadOnlyList<ChatMessage>? Context { get; init; }

    /// <summary>Plain text: <see cref="Completion"/> holds the whole text, trained on every token, with no chat layout.</summary>
    public bool IsPlainText { get; init; }

    /// <summary>A plain-text example (language-model loss on all of <paramref name="text"/>).</summary>
    public static TextExample PlainText(string text, string category = "") => new("", text, category) { IsPlainText = true };
}
