using Federated.Core.Data;

namespace Federated.Core.Tests.Data;

public class ExampleShardsTests
{
    private static readonly IReadOnlyList<TextExample> Examples = Enumerable.Range(0, 60)
        .Select(i => new TextExample($"q{i}", $"a{i}", i % 3 == 0 ? "math" : i % 3 == 1 ? "words" : "code")).ToList();

    [Theory]
    [InlineData(PartitionScheme.Iid)]
    [InlineData(PartitionScheme.Dirichlet)]
    [InlineData(PartitionScheme.Quantity)]
    public void Every_example_goes_to_exactly_one_client_and_every_client_gets_some(PartitionScheme scheme)
    {
        var shards = ExampleShards.Partition(Examples, scheme, 4, 0.3, 7);
        Assert.Equal(4, shards.Count);
        Assert.All(shards, s => Assert.NotEmpty(s));
        Assert.Equal(Examples.Select(e => e.Prompt).Order(), shards.SelectMany(s => s).Select(e => e.Prompt).Order());
        Assert.Equal(shards.Select(s => s.Count), ExampleShards.Partition(Examples, scheme, 4, 0.3, 7).Select(s => s.Count));
    }

    [Fact]
    public void Dirichlet_with_small_alpha_skews_categories_more_than_iid()
    {
        static double Skew(IReadOnlyList<IReadOnlyList<TextExample>> shards)
            => shards.Average(s => s.GroupBy(e => e.Category).Max(g => g.Count()) / (double)s.Count);
        Assert.True(Skew(ExampleShards.Partition(Examples, PartitionScheme.Dirichlet, 3, 0.05, 1)) > Skew(ExampleShards.Partition(Examples, PartitionScheme.Iid, 3, 0.05, 1)));
    }

    [Fact]
    public void The_held_out_slice_and_the_training_rest_are_disjoint_and_cover_the_data()
    {
        var (train, heldOut) = ExampleShards.HoldOut(Examples, 6, 1);
        Assert.Equal(6, heldOut.Count);
        Assert.Equal(54, train.Count);
        Assert.Empty(train.Intersect(heldOut));
        Assert.NotEqual(Examples.Take(6), heldOut); // shuffled, not the first lines
        Assert.Contains("cannot hold out 60 of 60", Assert.Throws<ArgumentException>(() => ExampleShards.HoldOut(Examples, 60, 1)).Message);
    }

    [Fact]
    public void Shards_are_written_as_jsonl_that_reads_back_the_same()
    {
        var folder = Directory.CreateTempSubdirectory("shards-").FullName;
        try
        {
            var shards = ExampleShards.Partition(Examples, PartitionScheme.Iid, 2, 1, 1);
            var paths = ExampleShards.Write(shards, i => Path.Combine(folder, $"shard-{i + 1}"));
            Assert.Equal([Path.Combine(folder, "shard-1", "train.jsonl"), Path.Combine(folder, "shard-2", "train.jsonl")], paths);
            Assert.Equal(shards[1], JsonlExamples.Load(paths[1]));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void More_clients_than_examples_is_refused()
        => Assert.Contains("at least one", Assert.Throws<ArgumentException>(() => ExampleShards.Partition(Examples.Take(2).ToList(), PartitionScheme.Iid, 3, 1, 1)).Message);
}
