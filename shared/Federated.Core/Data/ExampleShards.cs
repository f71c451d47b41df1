using Federated.Core.Randomness;

namespace Federated.Core.Data;

/// <summary>How a simulation splits one dataset across its clients.</summary>
public enum PartitionScheme
{
    /// <summary>A seeded shuffle into near-equal shards.</summary>
    Iid,

    /// <summary>Label skew: Dirichlet(α) shares of each "category" per client.</summary>
    Dirichlet,

    /// <summary>Quantity skew: shard sizes in Dirichlet(α) shares.</summary>
    Quantity,
}

/// <summary>Splits examples into client shards and a held-out slice, and writes shards as JSONL.</summary>
public static class ExampleShards
{
    public const string TrainFile = "train.jsonl";

    /// <summary>Shards of <paramref name="examples"/> by <paramref name="scheme"/>; every client gets at least one example.</summary>
    public static IReadOnlyList<IReadOnlyList<TextExample>> Partition(IReadOnlyList<TextExample> examples, PartitionScheme scheme, int clients, double alpha, ulong seed) => scheme switch
    {
        PartitionScheme.Iid => Checked(DataPartitioning.Iid(examples, clients, seed), examples.Count),
        PartitionScheme.Dirichlet => DataPartitioning.Dirichlet(examples, e => e.Category, clients, alpha, seed, minPerClient: 1),
        PartitionScheme.Quantity => DataPartitioning.QuantitySkew(examples, clients, alpha, seed, minPerClient: 1),
        _ => throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "unknown partition scheme"),
    };

    /// <summary>A seeded held-out slice of <paramref name="count"/> examples, and the rest for training.</summary>
    public static (IReadOnlyList<TextExample> Train, IReadOnlyList<TextExample> HeldOut) HoldOut(IReadOnlyList<TextExample> examples, int count, ulong seed)
    {
        if (count < 1 || count >= examples.Count)
            throw new ArgumentException($"cannot hold out {count} of {examples.Count} examples: at least one must be held out and one kept for training");
        var shuffled = DataPartitioning.Iid(examples, 1, DeterministicRandom.Mix(seed, "held-out"))[0];
        return (shuffled.Skip(count).ToList(), shuffled.Take(count).ToList());
    }

    /// <summary>Writes shard i to <paramref name="folderOf"/>(i)/train.jsonl; returns the files, in shard order.</summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<IReadOnlyList<TextExample>> shards, Func<int, string> folderOf)
    {
        var paths = new List<string>(shards.Count);
        for (int i = 0; i < shards.Count; i++)
        {
            var folder = folderOf(i);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, TrainFile);
            JsonlExamples.Write(path, shards[i]);
            paths.Add(path);
        }
        return paths;
    }

    private static IReadOnlyList<IReadOnlyList<TextExample>> Checked(IReadOnlyList<IReadOnlyList<TextExample>> shards, int count)
        => shards.Any(s => s.Count == 0) ? throw new ArgumentException($"{count} examples cannot give each of {shards.Count} clients at least one") : shards;
}
