using Federated.Core.Randomness;

namespace Federated.Core.Data;

/// <summary>Splits a dataset into client shards for simulations.</summary>
public static class DataPartitioning
{
    /// <summary>IID: a seeded shuffle, then near-equal contiguous shards.</summary>
    public static IReadOnlyList<IReadOnlyList<T>> Iid<T>(IReadOnlyList<T> items, int parts, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        var shuffled = items.ToArray();
        var random = new DeterministicRandom(seed);
        for (int i = shuffled.Length - 1; i > 0; i--)
        {
            var j = (int)(random.NextUInt64() % (ulong)(i + 1));
            (shuffled[i], shuffled[j]) = (shuffled[j], shuffled[i]);
        }
        var shards = new List<IReadOnlyList<T>>(parts);
        for (int p = 0; p < parts; p++)
        {
            int start = (int)((long)shuffled.Length * p / parts), end = (int)((long)shuffled.Length * (p + 1) / parts);
            shards.Add(shuffled[start..end]);
        }
        return shards;
    }
}
