namespace Federated.Core.Data;

/// <summary>One supervised example: the model reads the prompt and learns to produce the completion.</summary>
public sealed record TextExample(string Prompt, string Completion, string Category = "");
