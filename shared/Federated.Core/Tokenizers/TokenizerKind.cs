namespace Federated.Core.Tokenizers;

/// <summary>The two BPE families of Hugging Face tokenizer.json files that can be loaded.</summary>
public enum TokenizerKind
{
    /// <summary>GPT-2 style: UTF-8 bytes mapped to printable characters, split by regex (Llama 3, Qwen2, SmolLM2).</summary>
    ByteLevelBpe,

    /// <summary>SentencePiece style: "▁" for spaces, byte fallback (Llama 2, TinyLlama).</summary>
    SentencePieceBpe,
}
