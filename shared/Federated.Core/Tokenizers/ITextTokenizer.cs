namespace Federated.Core.Tokenizers;

/// <summary>Turns text into token ids and back, with the ids a model needs around a sequence.</summary>
public interface ITextTokenizer
{
    /// <summary>Ids run from 0 to VocabSize - 1; the model's embedding must have at least this many rows.</summary>
    int VocabSize { get; }

    /// <summary>The id put before every sequence, or null for tokenizers that add none (Qwen2, SmolLM2).</summary>
    int? BosId { get; }

    /// <summary>The id that ends a sequence (and, in some chat formats, every assistant turn).</summary>
    int EosId { get; }

    int PadId { get; }

    /// <summary>Encodes text without adding BOS or EOS; special-token strings in the text become their ids.</summary>
    int[] Encode(string text);

    /// <summary>Decodes ids to text; special tokens are dropped.</summary>
    string Decode(IEnumerable<int> ids);
}
