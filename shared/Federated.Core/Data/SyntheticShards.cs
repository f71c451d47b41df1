namespace Federated.Core.Data;

/// <summary>Client shards of the built-in task, written as JSONL for client daemons to read.</summary>
public static class SyntheticShards
{
    /// <summary>
    /// Draws <paramref name="shards"/> × <paramref name="examplesPerShard"/> training examples, splits them IID
    /// and writes shard i to <paramref name="folderOf"/>(i)/train.jsonl. Returns the files, in shard order.
    /// </summary>
    public static IReadOnlyList<string> Write(int shards, int examplesPerShard, ulong seed, Func<int, string> folderOf)
    {
        var examples = SyntheticSkills.Generate(shards * examplesPerShard, seed, DataSplit.Train);
        var parts = DataPartitioning.Iid(examples, shards, seed);
        var paths = new List<string>(parts.Count);
        for (int i = 0; i < parts.Count; i++)
        {
            var folder = folderOf(i);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, "train.jsonl");
            JsonlExamples.Write(path, parts[i]);
            paths.Add(path);
        }
        return paths;
    }
}
