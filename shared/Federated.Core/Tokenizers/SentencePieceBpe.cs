using System.Text;

namespace Federated.Core.Tokenizers;

/// <summary>
/// SentencePiece-style BPE as Hugging Face stores it for Llama 2 and TinyLlama: spaces become "▁", merges are
/// applied by rank over characters, and characters outside the vocabulary fall back to "&lt;0xNN&gt;" byte
/// tokens. Written here because Microsoft.ML.Tokenizers 2.0 builds this kind only from a SentencePiece .model
/// file and its BPE tokenizer has no byte fallback.
/// </summary>
internal sealed class SentencePieceBpe(
    IReadOnlyDictionary<string, int> vocabulary,
    IReadOnlyDictionary<(string, string), int> mergeRanks,
    bool byteFallback,
    int? unknownId,
    bool fuseUnknown,
    MetaspaceSettings metaspace,
    PreTokenizerSplits splits) : ISegmentModel
{
    public const char Space = '▁';

    private readonly Dictionary<int, string> _pieces = vocabulary.ToDictionary(p => p.Value, p => p.Key);

    // Without a splitting pre-tokenizer, merges run over whole text. Every merged symbol is a vocabulary piece,
    // so no merge can join a character c to a following "▁" unless some piece holds c then "▁"; the text is
    // cut before every other "▁" and merged piece by piece, with the same result and without quadratic cost.
    // (Llama 2: only "▁▁…" pieces, so words; Gemma 3: also ">▁</".)
    private readonly HashSet<char> _joinsFollowingSpace = [.. vocabulary.Keys.SelectMany(p => Enumerable.Range(1, Math.Max(0, p.Length - 1)).Where(i => p[i] == Space).Select(i => p[i - 1]))];

    public int[] Encode(string segment, bool first)
    {
        var text = segment.Replace(' ', Space);
        if (metaspace.Prepend == PrependScheme.Always || (metaspace.Prepend == PrependScheme.First && first))
            text = Space + text;
        var ids = new List<int>();
        foreach (var (offset, length) in splits.Split(text))
        {
            var piece = text.Substring(offset, length);
            foreach (var word in SplitBeforeSpaces(piece, metaspace.Split ? null : _joinsFollowingSpace))
                EncodeWord(word, ids);
        }
        return [.. ids];
    }

    public string DecodeAdded(string content) => content.Replace(Space, ' ');

    public string Decode(IReadOnlyList<int> ids, bool atStart)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            if (!_pieces.TryGetValue(id, out var piece))
                continue;
            if (ByteValue(piece) is { } b)
            {
                bytes.Add(b);
                continue;
            }
            FlushBytes(bytes, text);
            text.Append(piece.Replace(Space, ' '));
        }
        FlushBytes(bytes, text);
        if (atStart && metaspace.Prepend != PrependScheme.Never && text.Length > 0 && text[0] == ' ')
            text.Remove(0, 1);
        return text.ToString();
    }

    private void EncodeWord(string word, List<int> ids)
    {
        var symbols = new List<string>();
        foreach (var rune in word.EnumerateRunes())
            symbols.Add(rune.ToString());
        while (symbols.Count > 1)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i + 1 < symbols.Count; i++)
            {
                if (mergeRanks.TryGetValue((symbols[i], symbols[i + 1]), out var rank) && rank < bestRank)
                    (best, bestRank) = (i, rank);
            }
            if (best < 0)
                break;
            symbols[best] += symbols[best + 1];
            symbols.RemoveAt(best + 1);
        }
        bool lastUnknown = false;
        foreach (var symbol in symbols)
        {
            if (vocabulary.TryGetValue(symbol, out var id))
            {
                ids.Add(id);
                lastUnknown = false;
            }
            else if (byteFallback)
            {
                foreach (var b in Encoding.UTF8.GetBytes(symbol))
                {
                    ids.Add(vocabulary[$"<0x{b:X2}>"]); // present: checked when the file was read
                }
                lastUnknown = false;
            }
            else if (unknownId is { } unk)
            {
                if (!(fuseUnknown && lastUnknown))
                    ids.Add(unk);
                lastUnknown = true;
            }
            else
            {
                throw new ArgumentException($"'{symbol}' is not in the vocabulary and the tokenizer has neither byte_fallback nor unk_token");
            }
        }
    }

    /// <summary>Pieces that each start at a "▁" (Metaspace's split, <paramref name="joins"/> null), or at a "▁" whose preceding character is not in <paramref name="joins"/>.</summary>
    private static IEnumerable<string> SplitBeforeSpaces(string text, HashSet<char>? joins)
    {
        int start = 0;
        for (int i = 1; i < text.Length; i++)
        {
            if (text[i] == Space && !(joins is not null && joins.Contains(text[i - 1])))
            {
                yield return text[start..i];
                start = i;
            }
        }
        if (start < text.Length)
            yield return text[start..];
    }

    private static byte? ByteValue(string piece)
        => piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out var b) ? b : null;

    private static void FlushBytes(List<byte> bytes, StringBuilder text)
    {
        if (bytes.Count == 0)
            return;
        text.Append(Encoding.UTF8.GetString([.. bytes]));
        bytes.Clear();
    }
}

/// <summary>Where SentencePiece puts the "▁" that marks a word start before the first word.</summary>
internal enum PrependScheme
{
    Never,
    First,
    Always,
}

internal sealed record MetaspaceSettings(PrependScheme Prepend, bool Split);

/// <summary>The model part of a tokenizer: encodes text that holds no added tokens, and decodes the model's ids.</summary>
internal interface ISegmentModel
{
    /// <summary>How a non-special added token reads in decoded text (the decoder runs over it too).</summary>
    string DecodeAdded(string content);

    /// <param name="first">Whether the segment starts the text (SentencePiece's "first" prepend scheme).</param>
    int[] Encode(string segment, bool first);

    /// <param name="atStart">Whether the ids start the decoded text.</param>
    string Decode(IReadOnlyList<int> ids, bool atStart);
}
