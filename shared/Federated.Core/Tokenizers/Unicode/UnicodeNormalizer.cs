using System.Globalization;
using System.Text;

namespace Federated.Core.Tokenizers.Unicode;

/// <summary>
/// Unicode normalization forms NFC, NFD, NFKC and NFKD, done here because the project runs with
/// InvariantGlobalization, where <see cref="string.Normalize()"/> silently returns its input unchanged; the
/// tables (NormalizationData.txt, embedded) are generated from Python's unicodedata by the script beside them.
/// </summary>
internal static class UnicodeNormalizer
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Lazy<Tables> Data = new(Load);

    public static string Normalize(string text, NormalizationForm form)
    {
        // Below U+0300 nothing decomposes canonically or combines; compatibility forms also need ASCII.
        int limit = form is NormalizationForm.FormC or NormalizationForm.FormD ? 0x300 : 0x80;
        bool plain = true;
        foreach (var c in text)
        {
            if (c >= limit)
            {
                plain = false;
                break;
            }
        }
        if (plain)
            return text;
        var tables = Data.Value;
        bool compatibility = form is NormalizationForm.FormKC or NormalizationForm.FormKD;
        var points = new List<int>(text.Length);
        foreach (var rune in text.EnumerateRunes())
            Decompose(rune.Value, compatibility, tables, points);
        Reorder(points, tables);
        if (form is NormalizationForm.FormC or NormalizationForm.FormKC)
            Compose(points, tables);
        var result = new StringBuilder(points.Count);
        foreach (var p in points)
            result.Append(char.ConvertFromUtf32(p));
        return result.ToString();
    }

    private static void Decompose(int cp, bool compatibility, Tables tables, List<int> into)
    {
        if (cp is >= SBase and < SBase + SCount)
        {
            int s = cp - SBase;
            into.Add(LBase + s / NCount);
            into.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0)
                into.Add(TBase + s % TCount);
            return;
        }
        if ((compatibility && tables.Compatibility.TryGetValue(cp, out var parts)) || tables.Canonical.TryGetValue(cp, out parts))
            into.AddRange(parts);
        else
            into.Add(cp);
    }

    /// <summary>Canonical ordering: a stable sort of each run of combining marks by combining class.</summary>
    private static void Reorder(List<int> points, Tables tables)
    {
        for (int i = 1; i < points.Count; i++)
        {
            int ccc = tables.Class(points[i]);
            if (ccc == 0)
                continue;
            for (int j = i; j > 0 && tables.Class(points[j - 1]) > ccc; j--)
                (points[j - 1], points[j]) = (points[j], points[j - 1]);
        }
    }

    /// <summary>Canonical composition (UAX #15): each mark joins the last starter unless a mark of the same or higher class sits between.</summary>
    private static void Compose(List<int> points, Tables tables)
    {
        if (points.Count < 2)
            return;
        int starter = 0, lastClass = tables.Class(points[0]) == 0 ? 0 : 256, write = 1;
        for (int read = 1; read < points.Count; read++)
        {
            int cp = points[read], ccc = tables.Class(cp);
            if ((lastClass < ccc || lastClass == 0) && Composite(points[starter], cp, tables) is { } composite)
            {
                points[starter] = composite;
                continue;
            }
            if (ccc == 0)
                starter = write;
            lastClass = ccc;
            points[write++] = cp;
        }
        points.RemoveRange(write, points.Count - write);
    }

    private static int? Composite(int a, int b, Tables tables)
    {
        if (a is >= LBase and < LBase + LCount && b is >= VBase and < VBase + VCount)
            return SBase + ((a - LBase) * VCount + (b - VBase)) * TCount;
        if (a is >= SBase and < SBase + SCount && (a - SBase) % TCount == 0 && b is > TBase and < TBase + TCount)
            return a + (b - TBase);
        return tables.Compositions.TryGetValue(((long)a << 21) | (uint)b, out var c) ? c : null;
    }

    private sealed class Tables
    {
        public Dictionary<int, int> Classes { get; } = [];

        public Dictionary<int, int[]> Canonical { get; } = [];

        public Dictionary<int, int[]> Compatibility { get; } = [];

        public Dictionary<long, int> Compositions { get; } = [];

        public int Class(int cp) => Classes.TryGetValue(cp, out var c) ? c : 0;
    }

    private static Tables Load()
    {
        var tables = new Tables();
        using var stream = typeof(UnicodeNormalizer).Assembly.GetManifestResourceStream("Federated.Core.Tokenizers.Unicode.NormalizationData.txt")
            ?? throw new InvalidOperationException("the embedded Unicode normalization tables are missing from Federated.Core");
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            var fields = line.Split(' ');
            var values = fields.Skip(1).Select(f => int.Parse(f, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
            switch (fields[0])
            {
                case "C":
                    tables.Classes[values[0]] = int.Parse(fields[2], CultureInfo.InvariantCulture);
                    break;
                case "D":
                    tables.Canonical[values[0]] = values[1..];
                    break;
                case "K":
                    tables.Compatibility[values[0]] = values[1..];
                    break;
                case "P":
                    tables.Compositions[((long)values[0] << 21) | (uint)values[1]] = values[2];
                    break;
            }
        }
        return tables;
    }
}
