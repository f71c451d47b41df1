namespace Federated.Core.Tokenizers;

/// <summary>A tokenizer.json or tokenizer_config.json that cannot be used; the message names the file and field.</summary>
public sealed class TokenizerFormatException(string message) : Exception(message);
