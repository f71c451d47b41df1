using System.Globalization;
using System.Text.RegularExpressions;

namespace Federated.Core.Tokenizers;

/// <summary>What Hugging Face's Split pre-tokenizer does with each match of its pattern.</summary>
internal enum SplitBehavior
{
    /// <summary>Every match is a piece, and so is every gap between matches.</summary>
    Isolated,

    /// <summary>Matches are dropped; the gaps are the pieces.</summary>
    Removed,

    /// <summary>A match ends the piece before it.</summary>
    MergedWithPrevious,

    /// <summary>A match starts the piece after it.</summary>
    MergedWithNext,
}

internal sealed record SplitRule(Regex Pattern, SplitBehavior Behavior);

/// <summary>
/// Splits text into pieces by a sequence of Split rules, each rule applied to every piece the previous ones made.
/// .NET's Regex matches UTF-16 code units, so \p{L} or [^\p{L}] would take one half of a surrogate pair
/// (an emoji, 𝐀) where Hugging Face (Rust, and JavaScript with the u flag) sees one character. So each
/// character outside the Basic Multilingual Plane is matched as a stand-in BMP character of the same Unicode
/// category, and the pieces are mapped back to the original text.
/// </summary>
internal sealed class PreTokenizerSplits(IReadOnlyList<SplitRule> rules)
{
    public bool IsEmpty => rules.Count == 0;

    private static readonly Dictionary<UnicodeCategory, char> StandIns = FindStandIns();

    public List<(int Offset, int Length)> Split(string text)
    {
        if (rules.Count == 0 || text.Length == 0)
            return [(0, text.Length)];
        var (matched, starts) = StandInText(text);
        var pieces = new List<(int Offset, int Length)> { (0, matched.Length) };
        foreach (var rule in rules)
        {
            var next = new List<(int Offset, int Length)>();
            foreach (var (offset, length) in pieces)
                SplitPiece(rule, matched, offset, length, next);
            pieces = next;
        }
        if (starts is null)
            return pieces;
        return pieces.Select(p => (starts[p.Offset], starts[p.Offset + p.Length] - starts[p.Offset])).ToList();
    }

    private static void SplitPiece(SplitRule rule, string text, int offset, int length, List<(int Offset, int Length)> into)
    {
        int at = offset, end = offset + length;
        int pendingStart = -1; // MergedWithNext: where the match that starts the next piece began
        void Add(int start, int stop)
        {
            if (stop > start)
                into.Add((start, stop - start));
        }
        for (var match = rule.Pattern.Match(text, offset, length); match.Success; match = match.NextMatch())
        {
            if (match.Length == 0)
                continue;
            int start = match.Index, stop = match.Index + match.Length;
            switch (rule.Behavior)
            {
                case SplitBehavior.Isolated:
                    Add(at, start);
                    Add(start, stop);
                    break;
                case SplitBehavior.Removed:
                    Add(at, start);
                    break;
                case SplitBehavior.MergedWithPrevious:
                    Add(at, stop);
                    break;
                case SplitBehavior.MergedWithNext:
                    Add(pendingStart >= 0 ? pendingStart : at, start);
                    pendingStart = start;
                    break;
            }
            at = stop;
        }
        if (rule.Behavior == SplitBehavior.MergedWithNext && pendingStart >= 0)
            Add(pendingStart, end);
        else
            Add(at, end);
    }

    /// <summary>The text with each surrogate pair as one stand-in character, and where each character of it starts in the original (null when nothing changed).</summary>
    private static (string Text, int[]? Starts) StandInText(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF'))
            return (text, null);
        var chars = new char[text.Length];
        var starts = new List<int>(text.Length + 1);
        int n = 0;
        for (int i = 0; i < text.Length; i++)
        {
            starts.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                chars[n++] = StandIns[CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]))];
                i++;
            }
            else
            {
                chars[n++] = text[i];
            }
        }
        starts.Add(text.Length);
        return (new string(chars, 0, n), [.. starts]);
    }

    /// <summary>
    /// For each category, the first BMP character of it from U+0100 on: past ASCII and Latin-1, which patterns
    /// name literally ("'s", [A-Za-z]), and without a case pairing to ASCII letters.
    /// </summary>
    private static Dictionary<UnicodeCategory, char> FindStandIns()
    {
        var standIns = new Dictionary<UnicodeCategory, char>();
        for (int c = 0x100; c <= 0xFFFF; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF)
                continue;
            standIns.TryAdd(CharUnicodeInfo.GetUnicodeCategory((char)c), (char)c);
        }
        foreach (var category in Enum.GetValues<UnicodeCategory>())
            standIns.TryAdd(category, '\uFFFD');
        return standIns;
    }
}
