using Federated.Fuzz;

namespace Federated.Core.Tests.Fuzz;

/// <summary>
/// Every fuzz target, uninstrumented: its seeds are accepted, its regression inputs (crashes found by fuzzing)
/// and a few thousand seeded mutations of both are refused or accepted as documented, never anything else.
/// </summary>
public sealed class FuzzTargetTests
{
    private const int MutationsPerTarget = 1500;

    public static TheoryData<string> Targets() => [.. FuzzTargets.All.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Seeds_are_accepted(string name)
    {
        var target = FuzzTargets.Find(name)!;
        foreach (var (seed, bytes) in target.Seeds())
            Assert.True(target.Run(bytes), $"{name} seed {seed} was refused: {Refusal.Last}");
        foreach (var file in Files("corpus", name))
            Assert.True(target.Run(File.ReadAllBytes(file)), $"{file} was refused: {Refusal.Last}");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Regression_inputs_and_mutations_raise_only_documented_errors(string name)
    {
        var target = FuzzTargets.Find(name)!;
        var inputs = target.Seeds().Select(s => s.Bytes).Concat(Files("corpus", name).Concat(Files("regressions", name)).Select(File.ReadAllBytes)).ToList();
        foreach (var file in Files("regressions", name))
            RunOrFail(target, File.ReadAllBytes(file), file);
        var random = new Random(12);
        for (int i = 0; i < MutationsPerTarget; i++)
        {
            var input = Mutations.Mutate(random, inputs[random.Next(inputs.Count)], inputs[random.Next(inputs.Count)]);
            RunOrFail(target, input, $"mutation {i}");
        }
    }

    private static void RunOrFail(IFuzzTarget target, byte[] input, string what)
    {
        try
        {
            target.Run(input);
        }
        catch (Exception e)
        {
            Assert.Fail($"{target.Name}, {what} ({Convert.ToBase64String(input)}): {e}");
        }
    }

    private static IEnumerable<string> Files(string kind, string target)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, kind, target);
        return Directory.Exists(folder) ? Directory.GetFiles(folder).Order(StringComparer.Ordinal) : [];
    }
}
