using System.Text;
using Microsoft.ML.Tokenizers;

namespace Federated.Core.Tokenizers;

/// <summary>
/// Byte-level BPE (GPT-2, Llama 3, Qwen2, SmolLM2) on Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>:
/// the text is split by the pre-tokenizer's regexes, each piece's UTF-8 bytes are mapped to printable
/// characters ("Ġ" for space) and merged by rank.
/// </summary>
internal sealed class ByteLevelBpe : ISegmentModel
{
    /// <summary>The GPT-2 split, used by the ByteLevel pre-tokenizer when use_regex is true.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>
    /// GPT-2's printable stand-in for a byte: printable Latin-1 bytes stand for themselves, the others take the
    /// characters from U+0100 on, in byte order (space is byte 32, the 33rd of those: "Ġ").
    /// </summary>
    public static char ByteSymbol(int b)
    {
        static bool Printable(int x) => x is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;
        if (Printable(b))
            return (char)b;
        int before = 0;
        for (int x = 0; x < b; x++)
        {
            if (!Printable(x))
                before++;
        }
        return (char)(256 + before);
    }

    private readonly BpeTokenizer _bpe;
    private readonly SplittingPreTokenizer _preTokenizer;
    private readonly IReadOnlyDictionary<string, int>? _wholeWords;
    private readonly bool _addPrefixSpace;

    /// <param name="ignoreMerges">
    /// Hugging Face's ignore_merges (Llama 3): a piece that is itself in the vocabulary is one token, whatever
    /// the merges would make of it. Microsoft.ML.Tokenizers has no such option, so it is done here.
    /// </param>
    public ByteLevelBpe(IReadOnlyDictionary<string, int> vocabulary, IReadOnlyList<string> merges, PreTokenizerSplits splits, bool addPrefixSpace, bool ignoreMerges)
    {
        _addPrefixSpace = addPrefixSpace;
        _preTokenizer = new SplittingPreTokenizer(splits);
        _wholeWords = ignoreMerges ? vocabulary : null;
        var options = new BpeOptions(vocabulary)
        {
            Merges = merges,
            ByteLevel = true,
            PreTokenizer = _preTokenizer,
        };
        _bpe = BpeTokenizer.Create(options);
    }

    public int[] Encode(string segment, bool first)
    {
        if (_addPrefixSpace && first && segment.Length > 0 && !char.IsWhiteSpace(segment[0]))
            segment = " " + segment;
        if (_wholeWords is null)
            return [.. _bpe.EncodeToIds(segment)];
        var ids = new List<int>();
        foreach (var (offset, length) in _preTokenizer.PreTokenize(segment))
        {
            var piece = segment.Substring(offset, length);
            if (_wholeWords.TryGetValue(Symbols(piece), out var id))
                ids.Add(id);
            else
                ids.AddRange(_bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false));
        }
        return [.. ids];
    }

    private static string Symbols(string piece) => new([.. Encoding.UTF8.GetBytes(piece).Select(b => ByteSymbol(b))]);

    public string DecodeAdded(string content) => content;

    public string Decode(IReadOnlyList<int> ids, bool atStart)
    {
        var text = _bpe.Decode(ids, considerSpecialTokens: false);
        return _addPrefixSpace && atStart && text.StartsWith(' ') ? text[1..] : text;
    }

    /// <summary>The pre-tokenizer's splits, in the shape Microsoft.ML.Tokenizers asks for.</summary>
    private sealed class SplittingPreTokenizer(PreTokenizerSplits splits) : PreTokenizer
    {
        public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => splits.Split(text);

        public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => splits.Split(text.ToString());
    }
}
