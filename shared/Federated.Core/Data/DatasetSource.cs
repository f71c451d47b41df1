using System.Globalization;

namespace Federated.Core.Data;

/// <summary>
/// Resolves a dataset reference: a JSONL file or folder, or the built-in task written as
/// builtin:synthetic?split=test&amp;count=256&amp;seed=7&amp;skills=reverse,add.
/// </summary>
public static class DatasetSource
{
    /// <summary>Most examples the built-in task generates: each is held in memory (a billion once took 9.5 GiB and counting).</summary>
    public const int MaxSyntheticCount = 100_000;

    public static IReadOnlyList<TextExample> Load(string reference)
    {
        if (!reference.StartsWith(SyntheticSkills.Reference, StringComparison.Ordinal))
            return JsonlExamples.LoadPath(reference);
        var query = reference.Length > SyntheticSkills.Reference.Length && reference[SyntheticSkills.Reference.Length] == '?'
            ? reference[(SyntheticSkills.Reference.Length + 1)..]
            : reference.Length == SyntheticSkills.Reference.Length ? "" : throw new DataFormatException($"unknown built-in dataset '{reference}'; use {SyntheticSkills.Reference}?split=test&count=256&seed=1");
        int count = 256;
        ulong seed = 1;
        var split = DataSplit.Test;
        IReadOnlyList<string>? skills = null;
        foreach (var part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var pieces = part.Split('=', 2);
            var value = pieces.Length == 2 ? pieces[1] : "";
            switch (pieces[0])
            {
                case "count" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var c) && c is > 0 and <= MaxSyntheticCount:
                    count = c;
                    break;
                case "seed" when ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var s):
                    seed = s;
                    break;
                case "split" when Enum.TryParse<DataSplit>(value, ignoreCase: true, out var sp):
                    split = sp;
                    break;
                case "skills" when value.Length > 0:
                    skills = value.Split(',');
                    break;
                default:
                    throw new DataFormatException($"dataset reference '{reference}': cannot use '{part}' (known: count=1..{MaxSyntheticCount}, seed=N, split=train|test, skills=a,b)");
            }
        }
        return SyntheticSkills.Generate(count, seed, split, skills);
    }

    public static string Synthetic(DataSplit split, int count, ulong seed)
        => FormattableString.Invariant($"{SyntheticSkills.Reference}?split={split.ToString().ToLowerInvariant()}&count={count}&seed={seed}");
}
