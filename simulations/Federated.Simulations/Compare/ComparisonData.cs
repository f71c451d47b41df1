using Federated.Core.Data;
using Federated.Core.Randomness;

namespace Federated.Simulations.Compare;

/// <summary>
/// One seed's data: the synthetic skills dealt to clients by a Dirichlet(α) label skew over skills, and a
/// held-out test set covering every skill. Tokenized only for real training.
/// </summary>
public sealed class ComparisonData
{
    private ComparisonData(IReadOnlyList<IReadOnlyList<TextExample>> shards, IReadOnlyList<TextExample> heldOut, int maxSequenceLength)
    {
        Shards = shards;
        HeldOut = heldOut;
        TokenizedShards = new Lazy<IReadOnlyList<IReadOnlyList<TokenizedExample>>>(() => shards.Select(s => TokenizedExample.FromAll(s, maxSequenceLength)).ToList());
        TokenizedHeldOut = new Lazy<IReadOnlyList<TokenizedExample>>(() => TokenizedExample.FromAll(heldOut, maxSequenceLength));
    }

    public IReadOnlyList<IReadOnlyList<TextExample>> Shards { get; }

    public IReadOnlyList<TextExample> HeldOut { get; }

    public Lazy<IReadOnlyList<IReadOnlyList<TokenizedExample>>> TokenizedShards { get; }

    public Lazy<IReadOnlyList<TokenizedExample>> TokenizedHeldOut { get; }

    public static ComparisonData Create(CompareSettings settings, ulong seed)
    {
        var pool = SyntheticSkills.Generate(settings.Clients * settings.ExamplesPerClient, DeterministicRandom.Mix(seed, "compare-train"), DataSplit.Train);
        var minimum = Math.Min(settings.BatchSize, settings.ExamplesPerClient);
        var shards = DataPartitioning.Dirichlet(pool, e => e.Category, settings.Clients, settings.Alpha, DeterministicRandom.Mix(seed, "compare-partition"), minPerClient: minimum);
        var heldOut = SyntheticSkills.Generate(settings.EvaluationExamples, DeterministicRandom.Mix(seed, "compare-test"), DataSplit.Test);
        return new ComparisonData(shards, heldOut, settings.MaxSequenceLength);
    }
}
