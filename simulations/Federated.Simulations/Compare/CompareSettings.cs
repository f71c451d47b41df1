using System.Globalization;
using Federated.Core.Aggregation;
using Federated.Core.Model;
using Federated.Core.Scheduling;
using Federated.Core.Scheduling.Simulation;

namespace Federated.Simulations.Compare;

/// <summary>
/// One `federated compare` experiment: which schedulers and aggregation strategies run, on which seeds, with
/// which virtual clients (speeds, data skew, ranks) and for how long. Every (scheduler, strategy) pair runs on
/// the same seeds, so its partitions and client speeds are the same.
/// </summary>
public sealed record CompareSettings
{
    public static IReadOnlyList<string> SchedulerNames { get; } = ["synchronous", "fedasync", "fedbuff", "fedcompass"];

    public static IReadOnlyList<string> SpeedNames { get; } = ["exponential", "uniform", "normal", "trace"];

    public int Clients { get; init; } = 16;

    public IReadOnlyList<string> Schedulers { get; init; } = ["fedcompass", "synchronous", "fedasync", "fedbuff"];

    public IReadOnlyList<string> Strategies { get; init; } = [AggregationStrategies.Stacking];

    public IReadOnlyList<ulong> Seeds { get; init; } = [1, 2, 3];

    /// <summary>exponential, uniform, normal or trace (with <see cref="TraceFile"/>).</summary>
    public string Speed { get; init; } = "exponential";

    /// <summary>How much slower a slow client is than the fastest: see <see cref="SpeedModel"/> for each distribution.</summary>
    public double Spread { get; init; } = 10;

    /// <summary>Seconds per local step of the fastest client (virtual time).</summary>
    public double FastestSecondsPerStep { get; init; } = 1;

    /// <summary>For <c>--speed trace</c>: one line per client, its seconds per step for successive tasks, comma-separated.</summary>
    public string? TraceFile { get; init; }

    /// <summary>Dirichlet α of the label (skill) skew across clients.</summary>
    public double Alpha { get; init; } = 0.5;

    /// <summary>LoRA ranks, handed out in turn by first request through the server's task ledger (all clients ask at time 0 in order, so client i takes Ranks[i mod count]).</summary>
    public IReadOnlyList<int> Ranks { get; init; } = [4, 8, 16];

    /// <summary>Held-out token accuracy whose first crossing the summary times.</summary>
    public double TargetAccuracy { get; init; } = 0.5;

    /// <summary>Stop each run at this virtual time (seconds); null with no <see cref="Aggregations"/>: <see cref="DefaultVirtualTime"/>.</summary>
    public double? VirtualTime { get; init; }

    /// <summary>Stop each run after this many aggregations instead of at a virtual time.</summary>
    public long? Aggregations { get; init; }

    /// <summary>No training: held-out metrics come from a cost model (see <see cref="CostModelTraining"/>).</summary>
    public bool CostModel { get; init; }

    /// <summary>FedCompass Q_min.</summary>
    public int MinSteps { get; init; } = 20;

    /// <summary>FedCompass Q_max, and the fixed local steps of the other schedulers.</summary>
    public int MaxSteps { get; init; } = 100;

    /// <summary>FedBuff K; null: a quarter of the clients (at least 2).</summary>
    public int? BufferSize { get; init; }

    /// <summary>How fedasync, fedbuff and fedcompass weigh updates (synchronous rounds always by the round's samples).</summary>
    public UpdateWeighting Weighting { get; init; } = UpdateWeighting.Federation;

    /// <summary>Synchronous rounds: seconds from a round's first task to its deadline.</summary>
    public double RoundDeadlineSeconds { get; init; } = 1e6;

    /// <summary>Virtual seconds a task may take before the ledger expires it, as the server's task_timeout_seconds (same default).</summary>
    public double TaskTimeoutSeconds { get; init; } = 600;

    public string Model { get; init; } = BuiltinModels.Tiny;

    public int ExamplesPerClient { get; init; } = 64;

    public int EvaluationExamples { get; init; } = 128;

    public double LearningRate { get; init; } = 1e-2;

    public int BatchSize { get; init; } = 8;

    public int MaxSequenceLength { get; init; } = 64;

    /// <summary>LoRA α = this × rank.</summary>
    public double LoraAlphaPerRank { get; init; } = 2.0;

    public int EffectiveBufferSize => BufferSize ?? Math.Max(2, Clients / 4);

    /// <summary>Eight synchronous rounds of a client <see cref="Spread"/> times slower than the fastest.</summary>
    public double DefaultVirtualTime => 8 * MaxSteps * FastestSecondsPerStep * Spread;

    /// <summary>Every problem with these settings, each naming its option.</summary>
    public IEnumerable<string> Problems()
    {
        if (Clients < 1)
            yield return $"--clients must be at least 1, got {Clients}";
        foreach (var name in Schedulers.Where(s => !SchedulerNames.Contains(s)))
            yield return $"--schedulers: unknown scheduler '{name}'; choose from {string.Join(", ", SchedulerNames)}";
        if (Schedulers.Count == 0)
            yield return "--schedulers must name at least one scheduler";
        foreach (var name in Strategies.Where(s => !AggregationStrategies.IsKnown(s)))
            yield return $"--strategies: unknown strategy '{name}'; choose from {string.Join(", ", AggregationStrategies.Names)}";
        if (Strategies.Count == 0)
            yield return "--strategies must name at least one strategy";
        if (Strategies.Contains(AggregationStrategies.FedIt) && Ranks.Take(Clients).Distinct().Count() > 1)
            yield return "--strategies fedit needs one rank for every client; give --ranks a single value";
        if (Seeds.Count == 0)
            yield return "--seeds must name at least one seed";
        if (!SpeedNames.Contains(Speed))
            yield return $"--speed: unknown distribution '{Speed}'; choose from {string.Join(", ", SpeedNames)}";
        if (Speed == "trace" && string.IsNullOrWhiteSpace(TraceFile))
            yield return "--speed trace needs --trace FILE (one line per client: seconds per step, comma-separated)";
        if (!(Spread >= 1) || !double.IsFinite(Spread))
            yield return $"--spread must be a finite number ≥ 1, got {Spread}";
        if (!(FastestSecondsPerStep > 0) || !double.IsFinite(FastestSecondsPerStep))
            yield return $"--seconds-per-step must be a finite number > 0, got {FastestSecondsPerStep}";
        if (!(Alpha > 0) || !double.IsFinite(Alpha))
            yield return $"--alpha must be a finite number > 0, got {Alpha}";
        if (Ranks.Count == 0 || Ranks.Any(r => r < 1))
            yield return $"--ranks must be positive integers, got {string.Join(",", Ranks)}";
        if (!(TargetAccuracy is > 0 and <= 1))
            yield return $"--target-accuracy must be in (0, 1], got {TargetAccuracy}";
        if (VirtualTime is { } time && !(time > 0 && double.IsFinite(time)))
            yield return $"--virtual-time must be a finite number of seconds > 0, got {time}";
        if (Aggregations is < 1)
            yield return $"--aggregations must be at least 1, got {Aggregations}";
        if (MinSteps < 1)
            yield return $"--min-steps must be at least 1, got {MinSteps}";
        if (MaxSteps < MinSteps)
            yield return $"--max-steps must be at least --min-steps ({MinSteps}), got {MaxSteps}";
        if (BufferSize is < 1)
            yield return $"--buffer-size must be at least 1, got {BufferSize}";
        if (!(TaskTimeoutSeconds > 0) || !double.IsFinite(TaskTimeoutSeconds))
            yield return $"--task-timeout must be a finite number of seconds > 0, got {TaskTimeoutSeconds}";
        if (!(RoundDeadlineSeconds > 0) || !double.IsFinite(RoundDeadlineSeconds))
            yield return $"--round-deadline must be a finite number of seconds > 0, got {RoundDeadlineSeconds}";
        if (!BuiltinModels.Names.Contains(Model))
            yield return $"--model must be a built-in model ({string.Join(", ", BuiltinModels.Names)}), got '{Model}'";
        if (ExamplesPerClient < 1)
            yield return $"--examples-per-client must be at least 1, got {ExamplesPerClient}";
        if (EvaluationExamples < 1)
            yield return $"--eval-examples must be at least 1, got {EvaluationExamples}";
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate))
            yield return $"--learning-rate must be a finite number > 0, got {LearningRate}";
        if (BatchSize < 1)
            yield return $"--batch-size must be at least 1, got {BatchSize}";
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem.</summary>
    public void Validate()
    {
        var problems = Problems().ToList();
        if (problems.Count > 0)
            throw new ArgumentException(string.Join(Environment.NewLine, problems));
    }

    /// <summary>
    /// The speed distribution: exponential is fastest + Exp(mean) with the mean set so the 95th percentile is
    /// <see cref="Spread"/> × the fastest; uniform spans [fastest, spread × fastest]; normal has its mean midway
    /// and ±2σ spanning that range (truncated at the fastest); trace replays <see cref="TraceFile"/>.
    /// </summary>
    public SpeedModel SpeedModel()
    {
        var f = FastestSecondsPerStep;
        return Speed switch
        {
            "exponential" => new ExponentialSpeed(f * (Spread - 1) / Math.Log(20), f),
            "uniform" => new UniformSpeed(f, f * Spread),
            "normal" => new NormalSpeed(f * (1 + Spread) / 2, f * (Spread - 1) / 4, f),
            "trace" => ReadTrace(TraceFile!),
            _ => throw new ArgumentException($"--speed: unknown distribution '{Speed}'"),
        };
    }

    public SchedulerOptions SchedulerOptions(string name) => name switch
    {
        "synchronous" => new SynchronousOptions { ClientsPerRound = Clients, MinQuorum = Clients, LocalSteps = MaxSteps, RoundDeadlineSeconds = RoundDeadlineSeconds },
        "fedasync" => new FedAsyncOptions { LocalSteps = MaxSteps, Weighting = Weighting },
        "fedbuff" => new FedBuffOptions { LocalSteps = MaxSteps, BufferSize = EffectiveBufferSize, Weighting = Weighting },
        "fedcompass" => new FedCompassOptions { MinSteps = MinSteps, MaxSteps = MaxSteps, Weighting = Weighting },
        _ => throw new ArgumentException($"unknown scheduler '{name}'; choose from {string.Join(", ", SchedulerNames)}"),
    };

    public SimulationOptions SimulationOptions(ulong seed) => new()
    {
        Clients = Clients,
        Seed = seed,
        Speeds = SpeedModel(),
        Ranks = Ranks,
        TaskTimeoutSeconds = TaskTimeoutSeconds,
        MaxAggregations = Aggregations ?? long.MaxValue,
        MaxVirtualSeconds = Aggregations is null ? VirtualTime ?? DefaultVirtualTime : VirtualTime,
    };

    private static TraceSpeed ReadTrace(string path)
    {
        if (!File.Exists(path))
            throw new ArgumentException($"--trace: file '{path}' does not exist");
        var traces = new List<IReadOnlyList<double>>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line) || line.TrimStart().StartsWith('#'))
                continue;
            var values = new List<double>();
            foreach (var field in line.Split(','))
            {
                if (!double.TryParse(field.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value > 0) || !double.IsFinite(value))
                    throw new ArgumentException($"--trace {path}, line {lineNumber}: '{field.Trim()}' is not a number of seconds per step > 0");
                values.Add(value);
            }
            traces.Add(values);
        }
        if (traces.Count == 0)
            throw new ArgumentException($"--trace {path}: no client lines");
        return new TraceSpeed(traces);
    }
}
