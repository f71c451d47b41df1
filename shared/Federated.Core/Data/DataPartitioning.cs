using Federated.Core.Randomness;

namespace Federated.Core.Data;

/// <summary>Splits a dataset into client shards for simulations. Every item goes to exactly one shard.</summary>
public static class DataPartitioning
{
    // A label partition that leaves a client under its minimum is drawn again, at most this many times.
    private const int MaxDirichletAttempts = 1000;

    /// <summary>IID: a seeded shuffle, then near-equal contiguous shards.</summary>
    public static IReadOnlyList<IReadOnlyList<T>> Iid<T>(IReadOnlyList<T> items, int parts, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        var shuffled = Shuffled(items, new DeterministicRandom(seed));
        var shards = new List<IReadOnlyList<T>>(parts);
        for (int p = 0; p < parts; p++)
        {
            int start = (int)((long)shuffled.Length * p / parts), end = (int)((long)shuffled.Length * (p + 1) / parts);
            shards.Add(shuffled[start..end]);
        }
        return shards;
    }

    /// <summary>
    /// Label skew (Hsu et al., 2019): for each label, client shares are drawn from Dirichlet(α) and that label's
    /// items dealt out in those shares. Small α gives each client few labels; large α approaches IID. Draws are
    /// repeated until every client holds at least <paramref name="minPerClient"/> items.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<T>> Dirichlet<T>(IReadOnlyList<T> items, Func<T, string> label, int parts, double alpha, ulong seed, int minPerClient = 0)
    {
        CheckParameters(items.Count, parts, alpha, minPerClient);
        var random = new DeterministicRandom(DeterministicRandom.Mix(seed, "dirichlet"));
        // Labels in sorted order, items shuffled within each: the result depends on the seed, not on input order by label.
        var groups = items.GroupBy(label).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.ToArray()).ToList();
        for (int attempt = 0; attempt < MaxDirichletAttempts; attempt++)
        {
            var shards = Enumerable.Range(0, parts).Select(_ => new List<T>()).ToList();
            foreach (var group in groups)
            {
                var shuffled = Shuffled(group, random);
                var counts = Apportion(random.NextDirichlet(parts, alpha), shuffled.Length);
                int at = 0;
                for (int p = 0; p < parts; p++)
                {
                    shards[p].AddRange(shuffled[at..(at + counts[p])]);
                    at += counts[p];
                }
            }
            if (shards.All(s => s.Count >= minPerClient))
                return shards;
        }
        throw new ArgumentException($"no Dirichlet(α={alpha}) label partition of {items.Count} items gave all {parts} clients at least {minPerClient} items in {MaxDirichletAttempts} draws; raise α or lower the minimum");
    }

    /// <summary>Quantity skew: shard sizes are <paramref name="minPerClient"/> plus Dirichlet(α) shares of the rest; items are shuffled first.</summary>
    public static IReadOnlyList<IReadOnlyList<T>> QuantitySkew<T>(IReadOnlyList<T> items, int parts, double alpha, ulong seed, int minPerClient = 1)
    {
        CheckParameters(items.Count, parts, alpha, minPerClient);
        var random = new DeterministicRandom(DeterministicRandom.Mix(seed, "quantity"));
        return BySizes(Shuffled(items, random), parts, minPerClient, random.NextDirichlet(parts, alpha));
    }

    /// <summary>Power-law quantity skew: client i's share of the items above the minimum is proportional to (i + 1)^-exponent.</summary>
    public static IReadOnlyList<IReadOnlyList<T>> PowerLaw<T>(IReadOnlyList<T> items, int parts, double exponent, ulong seed, int minPerClient = 1)
    {
        if (!(exponent >= 0) || double.IsInfinity(exponent))
            throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "the power-law exponent must be a finite number ≥ 0");
        CheckParameters(items.Count, parts, 1, minPerClient);
        var random = new DeterministicRandom(DeterministicRandom.Mix(seed, "power-law"));
        var weights = Enumerable.Range(0, parts).Select(i => Math.Pow(i + 1, -exponent)).ToArray();
        var total = weights.Sum();
        return BySizes(Shuffled(items, random), parts, minPerClient, weights.Select(w => w / total).ToArray());
    }

    private static List<IReadOnlyList<T>> BySizes<T>(T[] shuffled, int parts, int minPerClient, double[] shares)
    {
        var extra = Apportion(shares, shuffled.Length - parts * minPerClient);
        var shards = new List<IReadOnlyList<T>>(parts);
        int at = 0;
        for (int p = 0; p < parts; p++)
        {
            var size = minPerClient + extra[p];
            shards.Add(shuffled[at..(at + size)]);
            at += size;
        }
        return shards;
    }

    private static void CheckParameters(int count, int parts, double alpha, int minPerClient)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(minPerClient);
        if (!(alpha > 0) || double.IsInfinity(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "the concentration α must be a positive finite number");
        if ((long)parts * minPerClient > count)
            throw new ArgumentException($"{parts} clients with at least {minPerClient} items each need {(long)parts * minPerClient} items, but there are {count}");
    }

    /// <summary>Whole counts summing to <paramref name="total"/> in the given shares (largest remainders get the leftovers).</summary>
    private static int[] Apportion(double[] shares, int total)
    {
        var counts = new int[shares.Length];
        var exact = shares.Select(s => s * total).ToArray();
        for (int i = 0; i < shares.Length; i++)
            counts[i] = (int)Math.Floor(exact[i]);
        var left = total - counts.Sum();
        foreach (var i in Enumerable.Range(0, shares.Length).OrderByDescending(i => exact[i] - counts[i]).ThenBy(i => i).Take(left))
            counts[i]++;
        return counts;
    }

    private static T[] Shuffled<T>(IReadOnlyList<T> items, DeterministicRandom random)
    {
        var shuffled = items.ToArray();
        for (int i = shuffled.Length - 1; i > 0; i--)
        {
            var j = (int)(random.NextUInt64() % (ulong)(i + 1));
            (shuffled[i], shuffled[j]) = (shuffled[j], shuffled[i]);
        }
        return shuffled;
    }
}
