using System.Globalization;
using Federated.Core.Randomness;

namespace Federated.Core.Data;

public enum DataSplit
{
    Train,
    Test,
}

/// <summary>
/// A built-in instruction task with exact answers, so demos and tests measure accuracy without any download.
/// Each skill maps a short prompt to a short completion. Train and test are disjoint: an example belongs to
/// the test split when the hash of its text falls in one bucket of ten.
/// </summary>
public static class SyntheticSkills
{
    public const string Reference = "builtin:synthetic";

    public static IReadOnlyList<string> Names { get; } = ["reverse", "uppercase", "sort", "add", "lookup"];

    public static IReadOnlyList<TextExample> Generate(int count, ulong seed, DataSplit split, IReadOnlyList<string>? skills = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        skills ??= Names;
        foreach (var skill in skills)
        {
            if (!Names.Contains(skill))
                throw new ArgumentException($"unknown synthetic skill '{skill}'; skills are {string.Join(", ", Names)}");
        }
        var random = new DeterministicRandom(DeterministicRandom.Mix(seed, "synthetic-" + split));
        var examples = new List<TextExample>(count);
        while (examples.Count < count)
        {
            var skill = skills[(int)(random.NextUInt64() % (ulong)skills.Count)];
            var example = Make(skill, random);
            if (SplitOf(example) == split)
                examples.Add(example);
        }
        return examples;
    }

    public static DataSplit SplitOf(TextExample example)
        => DeterministicRandom.Mix(0, example.Prompt + "\u0001" + example.Completion) % 10 == 0 ? DataSplit.Test : DataSplit.Train;

    private static TextExample Make(string skill, DeterministicRandom random)
    {
        switch (skill)
        {
            case "reverse":
            {
                var word = Letters(random, 3 + Next(random, 3));
                return new TextExample($"rev {word}=", new string(word.Reverse().ToArray()), skill);
            }
            case "uppercase":
            {
                var word = Letters(random, 3 + Next(random, 3));
                return new TextExample($"up {word}=", word.ToUpperInvariant(), skill);
            }
            case "sort":
            {
                var digits = Digits(random, 4 + Next(random, 2));
                return new TextExample($"sort {digits}=", new string(digits.Order().ToArray()), skill);
            }
            case "add":
            {
                int a = Next(random, 50), b = Next(random, 50);
                return new TextExample($"add {a}+{b}=", (a + b).ToString(CultureInfo.InvariantCulture), skill);
            }
            default:
            {
                var keys = Letters(random, 3).Distinct().ToArray();
                var values = keys.Select(_ => (char)('0' + Next(random, 10))).ToArray();
                var index = Next(random, keys.Length);
                var pairs = string.Join(" ", keys.Select((k, i) => $"{k}:{values[i]}"));
                return new TextExample($"get {keys[index]} in {pairs}=", values[index].ToString(), skill);
            }
        }
    }

    private static int Next(DeterministicRandom random, int bound) => (int)(random.NextUInt64() % (ulong)bound);

    private static string Letters(DeterministicRandom random, int length)
        => new(Enumerable.Range(0, length).Select(_ => (char)('a' + Next(random, 26))).ToArray());

    private static string Digits(DeterministicRandom random, int length)
        => new(Enumerable.Range(0, length).Select(_ => (char)('0' + Next(random, 10))).ToArray());
}
