namespace Federated.Core.Tokenizers;

/// <summary>How an instruction example is laid out as text before tokenizing.</summary>
public enum ChatFormat
{
    /// <summary>Prompt then completion, nothing between: the format of the built-in byte-level models.</summary>
    Raw,

    /// <summary>"### Instruction:" / "### Response:" headings, for models whose tokenizer_config.json has no chat_template.</summary>
    Plain,

    /// <summary>The model's own chat_template, evaluated (<see cref="ModelChatTemplate"/>).</summary>
    Template,
}
