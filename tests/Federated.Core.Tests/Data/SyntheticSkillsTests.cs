using System.Text.RegularExpressions;
using Federated.Core.Data;

namespace Federated.Core.Tests.Data;

public partial class SyntheticSkillsTests
{
    [Fact]
    public void Every_example_has_a_skill_category_and_lookup_answers_are_exact()
    {
        var examples = SyntheticSkills.Generate(500, 8, DataSplit.Train);
        Assert.All(examples, e => Assert.Contains(e.Category, SyntheticSkills.Names));
        var lookups = examples.Where(e => e.Category == "lookup").ToList();
        Assert.NotEmpty(lookups);
        foreach (var example in lookups)
        {
            var match = LookupPrompt().Match(example.Prompt);
            Assert.True(match.Success, example.Prompt);
            var pairs = match.Groups["pairs"].Value.Split(' ').Select(p => p.Split(':')).ToDictionary(p => p[0], p => p[1]);
            Assert.Equal(pairs[match.Groups["key"].Value], example.Completion);
        }
    }

    [Fact]
    public void Dirichlet_partitions_of_the_suite_skew_skills_across_clients()
    {
        var examples = SyntheticSkills.Generate(1000, 2, DataSplit.Train);
        var shards = DataPartitioning.Dirichlet(examples, e => e.Category, 5, 0.05, 1);
        Assert.Equal(1000, shards.Sum(s => s.Count));
        // With α this small most clients hold mostly one skill.
        var dominantShare = shards.Where(s => s.Count > 0).Average(s => s.GroupBy(e => e.Category).Max(g => g.Count()) / (double)s.Count);
        Assert.True(dominantShare > 0.6, $"mean share of a client's main skill was {dominantShare:F2}");
    }

    [GeneratedRegex("^get (?<key>[a-z]) in (?<pairs>[a-z]:[0-9](?: [a-z]:[0-9])*)=$")]
    private static partial Regex LookupPrompt();
}
