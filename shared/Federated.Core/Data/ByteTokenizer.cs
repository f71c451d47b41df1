using System.Text;
using Federated.Core.Tokenizers;

namespace Federated.Core.Data;

/// <summary>UTF-8 bytes as tokens 0–255, plus BOS, EOS and PAD: the tokenizer of the built-in models.</summary>
public sealed class ByteTokenizer : ITextTokenizer
{
    public const int Bos = 256;
    public const int Eos = 257;
    public const int Pad = 258;
    public const int VocabularySize = 259;

    public static ByteTokenizer Instance { get; } = new();

    public int VocabSize => VocabularySize;

    public int? BosId => Bos;

    public int EosId => Eos;

    public int PadId => Pad;

    public int[] Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var ids = new int[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
            ids[i] = bytes[i];
        return ids;
    }

    /// <summary>Decodes byte tokens; special tokens are dropped.</summary>
    public string Decode(IEnumerable<int> ids)
        => Encoding.UTF8.GetString(ids.Where(id => id is >= 0 and < 256).Select(id => (byte)id).ToArray());
}
