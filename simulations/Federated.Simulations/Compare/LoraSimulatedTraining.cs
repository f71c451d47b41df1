using Federated.Core.Adapters;
using Federated.Core.Aggregation;
using Federated.Core.Model;
using Federated.Core.Randomness;
using Federated.Core.Scheduling;
using Federated.Core.Scheduling.Simulation;
using Federated.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Federated.Simulations.Compare;

/// <summary>
/// Real training in virtual time: each task trains a fresh LoRA adapter of the client's rank on its shard,
/// starting from the global model of the task's start version, and each aggregation order is carried out by
/// the aggregation strategy with the policy's absolute weights (normalised mix, then scaled by Σ w). Global
/// version v is the base model plus the merged updates 1..v (a client of rank r merges each outcome's view for
/// r); the weights of recent (version, rank) states are cached and older ones rebuilt by merging forward.
/// </summary>
public sealed class LoraSimulatedTraining : ComparisonTraining, IDisposable
{
    private const int GlobalView = 0;
    private const int CacheCapacity = 48;
    private readonly ComparisonData _data;
    private readonly IAggregationStrategy _strategy;
    private readonly ulong _seed;
    private readonly LlamaForCausalLM _model;
    private readonly Tensor[] _base;
    private readonly Dictionary<(long Version, int View), Tensor[]> _cache = [];
    private readonly List<AggregationOutcome> _outcomes = [];
    private readonly Dictionary<long, LoraAdapter> _pending = [];
    private readonly int[] _ranks;
    private (long Version, int View) _loaded = (0, GlobalView);

    public LoraSimulatedTraining(CompareSettings settings, ComparisonData data, IAggregationStrategy strategy, ulong seed, Action<EvaluationPoint>? progress = null)
        : base(settings, progress)
    {
        _data = data;
        _strategy = strategy;
        _seed = seed;
        _ranks = settings.Ranks.Distinct().Order().ToArray();
        _model = BuiltinModels.Create(settings.Model, CPU);
        _base = Snapshot();
    }

    public override string Kind => $"real LoRA training on {Settings.Model}";

    protected override long TrainUpdate(SimulatedTask task, int rank)
    {
        Load(task.Task.StartVersion, rank);
        var seed = DeterministicRandom.Mix(_seed, $"task {task.Task.TaskId}");
        var shard = _data.TokenizedShards.Value[task.ClientIndex];
        var options = new TrainingOptions
        {
            Steps = task.Task.LocalSteps,
            BatchSize = Settings.BatchSize,
            LearningRate = Settings.LearningRate,
            MaxSequenceLength = Settings.MaxSequenceLength,
            Seed = seed,
        };
        try
        {
            _model.AttachLora(new LoraSettings(rank, Settings.LoraAlphaPerRank * rank), TargetModules.All, seed);
            LoraTrainer.Train(_model, shard, options);
            _pending[task.Task.TaskId] = _model.ExportLora();
        }
        finally
        {
            _model.DetachLora();
        }
        return shard.Count;
    }

    protected override (double Loss, double TokenAccuracy, double ExactMatch) ApplyAndEvaluate(AggregationOrder order)
    {
        if (order.NewVersion != _outcomes.Count + 1)
            throw new InvalidOperationException($"aggregation order for version {order.NewVersion} arrived, but the next version is {_outcomes.Count + 1}");
        var inputs = order.Updates.Select(u =>
        {
            if (!_pending.Remove(u.TaskId, out var adapter))
                throw new InvalidOperationException($"aggregation order for version {order.NewVersion} names task {u.TaskId} of {u.ClientId}, which has no trained update");
            return new WeightedAdapter(adapter, u.Weight, u.ClientId);
        }).ToList();
        var outcome = _strategy.Aggregate(inputs, _ranks);
        _outcomes.Add(outcome.Scaled(order.Updates.Sum(u => u.Weight)));
        return Evaluate(order.NewVersion);
    }

    protected override (double Loss, double TokenAccuracy, double ExactMatch) EvaluateInitial() => Evaluate(0);

    protected override long DownloadBytes(long version, int rank) => BytesOf(_outcomes[(int)version - 1].For(rank));

    /// <summary>The SHA-256 fingerprint of global version <paramref name="version"/>'s weights (rank null) or of the model a client of that rank trains from.</summary>
    public string Fingerprint(long version, int? rank = null)
    {
        if (version < 0 || version > _outcomes.Count)
            throw new ArgumentOutOfRangeException(nameof(version), version, $"global versions so far are 0 to {_outcomes.Count}");
        Load(version, rank ?? GlobalView);
        return _model.Fingerprint();
    }

    public void Dispose()
    {
        foreach (var tensor in _cache.Values.SelectMany(t => t).Concat(_base))
            tensor.Dispose();
        _cache.Clear();
        _model.Dispose();
    }

    private (double, double, double) Evaluate(long version)
    {
        Load(version, GlobalView);
        var result = Evaluator.Evaluate(_model, _data.TokenizedHeldOut.Value);
        return (result.Loss, result.TokenAccuracy, result.ExactMatch);
    }

    private static long BytesOf(LoraAdapter adapter)
        => adapter.ModuleNames.Sum(m => (long)adapter[m].Rank * (adapter[m].InFeatures + adapter[m].OutFeatures) * sizeof(float));

    /// <summary>Puts the weights of (version, view) in the model: from the newest cached state at or before it, merging forward.</summary>
    private void Load(long version, int view)
    {
        if (_loaded == (version, view))
            return;
        var (from, weights) = _cache.Where(c => c.Key.View == view && c.Key.Version <= version)
            .Select(c => (c.Key.Version, c.Value))
            .DefaultIfEmpty((0, _base))
            .MaxBy(c => c.Item1);
        Restore(weights);
        for (var v = from + 1; v <= version; v++)
        {
            var outcome = _outcomes[(int)v - 1];
            _model.MergeAdapter(view == GlobalView ? outcome.Global : outcome.For(view));
        }
        _loaded = (version, view);
        if (version > from && version > 0)
        {
            if (_cache.Count >= CacheCapacity)
            {
                var oldest = _cache.Keys.MinBy(k => k.Version);
                foreach (var tensor in _cache[oldest])
                    tensor.Dispose();
                _cache.Remove(oldest);
            }
            _cache[(version, view)] = Snapshot();
        }
    }

    private Tensor[] Snapshot()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return _model.parameters().Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
    }

    private void Restore(Tensor[] weights)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var parameters = _model.parameters().ToArray();
        for (var i = 0; i < parameters.Length; i++)
            parameters[i].copy_(weights[i]);
    }
}
