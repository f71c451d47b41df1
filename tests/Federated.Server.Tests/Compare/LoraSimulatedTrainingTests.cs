using Federated.Core.Aggregation;
using Federated.Core.Model;
using Federated.Core.Scheduling;
using Federated.Core.Scheduling.Simulation;
using Federated.Simulations.Compare;
using static TorchSharp.torch;

namespace Federated.Server.Tests.Compare;

/// <summary>Real training in virtual time: global versions are rebuilt exactly, whichever way they are reached.</summary>
public class LoraSimulatedTrainingTests
{
    private static readonly CompareSettings Settings = new()
    {
        Clients = 2,
        Ranks = [2, 4],
        ExamplesPerClient = 8,
        EvaluationExamples = 8,
        BatchSize = 4,
    };

    [Fact]
    public void Versions_are_rebuilt_exactly_and_the_base_comes_back_unchanged()
    {
        var data = ComparisonData.Create(Settings, seed: 3);
        using var training = new LoraSimulatedTraining(Settings, data, AggregationStrategies.Create("stacking"), seed: 3);
        training.EvaluateStart();
        Assert.Equal(data.Shards[0].Count, training.Train(Task(1, client: 0, rank: 2, from: 0)));
        Assert.Equal(data.Shards[1].Count, training.Train(Task(2, client: 1, rank: 4, from: 0)));
        training.Aggregate(new AggregationOrder(1, 10, null, [Update(1, "client-00000", 0, 0.3), Update(2, "client-00001", 0, 0.6)]));
        training.Train(Task(3, client: 0, rank: 2, from: 1));
        training.Aggregate(new AggregationOrder(2, 20, null, [Update(3, "client-00000", 1, 0.9)]));

        var two = training.Fingerprint(2);
        var one = training.Fingerprint(1);
        var zero = training.Fingerprint(0);
        using var fresh = BuiltinModels.Create(Settings.Model, CPU);
        Assert.Equal(fresh.Fingerprint(), zero);
        Assert.Equal(3, new[] { zero, one, two }.Distinct().Count());
        Assert.Equal(two, training.Fingerprint(2)); // from the cache, after the base was loaded
        Assert.Equal(one, training.Fingerprint(1, rank: 4)); // stacking has no per-rank views: every client merges the global update
        Assert.Equal(3, training.Points.Count);
        Assert.Equal([0L, 1L, 2L], training.Points.Select(p => p.Version));
        Assert.Throws<ArgumentOutOfRangeException>(() => training.Fingerprint(3));
    }

    [Fact]
    public void An_order_naming_an_untrained_task_is_refused_with_its_id()
    {
        var data = ComparisonData.Create(Settings, seed: 4);
        using var training = new LoraSimulatedTraining(Settings, data, AggregationStrategies.Create("stacking"), seed: 4);
        var error = Assert.Throws<InvalidOperationException>(() => training.Aggregate(new AggregationOrder(1, 1, null, [Update(42, "client-00001", 0, 1)])));
        Assert.Contains("task 42", error.Message);
    }

    private static SimulatedTask Task(long id, int client, int rank, long from)
        => new(client, new ScheduledTask(id, $"client-{client:D5}", LocalSteps: 2, StartVersion: from, IssuedAt: 0, Deadline: null, Rank: rank, GroupId: null), 0, 1);

    private static WeightedUpdate Update(long task, string client, long from, double weight) => new(task, client, from, 0, 8, weight);
}
