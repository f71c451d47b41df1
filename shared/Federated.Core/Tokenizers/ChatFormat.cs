namespace Federated.Core.Tokenizers;

/// <summary>How an instruction example is laid out as text before tokenizing.</summary>
public enum ChatFormat
{
    /// <summary>Prompt then completion, nothing between: the format of the built-in byte-level models.</summary>
    Raw,

    /// <summary>"### Instruction:" / "### Response:" headings, for models without a recognised chat template.</summary>
    Plain,

    /// <summary>&lt;|im_start|&gt;role\n…&lt;|im_end|&gt; (Qwen2, SmolLM2).</summary>
    ChatMl,

    /// <summary>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\n…&lt;|eot_id|&gt; (Llama 3).</summary>
    Llama3,

    /// <summary>[INST] … [/INST] … &lt;/s&gt; (Llama 2).</summary>
    Llama2,

    /// <summary>&lt;|user|&gt;\n…&lt;/s&gt; (Zephyr, TinyLlama chat).</summary>
    Zephyr,
}

/// <summary>
/// Recognises common Jinja chat templates by their markers, since full Jinja is not evaluated here. An
/// unrecognised or missing template falls back to <see cref="ChatFormat.Plain"/>.
/// </summary>
public static class ChatFormats
{
    public static ChatFormat Detect(string? chatTemplate)
    {
        if (string.IsNullOrEmpty(chatTemplate))
            return ChatFormat.Plain;
        if (chatTemplate.Contains("<|im_start|>", StringComparison.Ordinal))
            return ChatFormat.ChatMl;
        if (chatTemplate.Contains("<|start_header_id|>", StringComparison.Ordinal))
            return ChatFormat.Llama3;
        if (chatTemplate.Contains("[INST]", StringComparison.Ordinal))
            return ChatFormat.Llama2;
        if (chatTemplate.Contains("<|user|>", StringComparison.Ordinal) && chatTemplate.Contains("<|assistant|>", StringComparison.Ordinal))
            return ChatFormat.Zephyr;
        return ChatFormat.Plain;
    }
}
