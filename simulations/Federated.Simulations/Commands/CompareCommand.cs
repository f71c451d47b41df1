using System.CommandLine;
using System.Globalization;
using Federated.Core.Aggregation;
using Federated.Core.Model;
using Federated.Core.Scheduling;
using Federated.Simulations.Compare;
using Federated.Simulations.Plotting;
using Spectre.Console;

namespace Federated.Simulations.Commands;

/// <summary>`federated compare`: schedulers × aggregation strategies in virtual time on the same seeds, partitions and client speeds.</summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var d = new CompareSettings();
        var clients = new Option<int>("--clients") { Description = "Virtual clients", DefaultValueFactory = _ => d.Clients };
        var schedulers = new Option<string>("--schedulers") { Description = $"Schedulers, comma-separated: {string.Join(", ", CompareSettings.SchedulerNames)}", DefaultValueFactory = _ => string.Join(',', d.Schedulers) };
        var strategies = new Option<string>("--strategies") { Description = $"Aggregation strategies, comma-separated: {string.Join(", ", AggregationStrategies.Names)}", DefaultValueFactory = _ => string.Join(',', d.Strategies) };
        var seeds = new Option<string>("--seeds") { Description = "Seeds, comma-separated; each fixes a data partition and the clients' speeds", DefaultValueFactory = _ => string.Join(',', d.Seeds) };
        var speed = new Option<string>("--speed") { Description = "Client speed distribution: exponential, uniform, normal or trace", DefaultValueFactory = _ => d.Speed };
        var spread = new Option<double>("--spread") { Description = "Slow ÷ fastest client (exponential: 95th percentile; uniform: maximum; normal: mean + 2σ)", DefaultValueFactory = _ => d.Spread };
        var secondsPerStep = new Option<double>("--seconds-per-step") { Description = "Virtual seconds per local step of the fastest client", DefaultValueFactory = _ => d.FastestSecondsPerStep };
        var trace = new Option<string?>("--trace") { Description = "For --speed trace: a file with one line per client of seconds per step for successive tasks, comma-separated" };
        var alpha = new Option<double>("--alpha") { Description = "Dirichlet α of the skill skew across clients (small: non-IID)", DefaultValueFactory = _ => d.Alpha };
        var ranks = new Option<string>("--ranks") { Description = "LoRA ranks, client i taking the (i mod count)-th, comma-separated", DefaultValueFactory = _ => string.Join(',', d.Ranks) };
        var target = new Option<double>("--target-accuracy") { Description = "Held-out token accuracy whose first crossing is timed", DefaultValueFactory = _ => d.TargetAccuracy };
        var virtualTime = new Option<double?>("--virtual-time") { Description = "Virtual seconds per run (default: 8 × max-steps × seconds-per-step × spread, unless --aggregations is given)" };
        var aggregations = new Option<long?>("--aggregations") { Description = "Stop each run after this many aggregations" };
        var costModel = new Option<bool>("--cost-model") { Description = "No training: metrics from a cost model, for scale runs (stated in every output)" };
        var minSteps = new Option<int>("--min-steps") { Description = "FedCompass Q_min", DefaultValueFactory = _ => d.MinSteps };
        var maxSteps = new Option<int>("--max-steps") { Description = "FedCompass Q_max, and the local steps of the other schedulers", DefaultValueFactory = _ => d.MaxSteps };
        var buffer = new Option<int?>("--buffer-size") { Description = "FedBuff K (default: a quarter of the clients, at least 2)" };
        var weighting = new Option<string>("--weighting") { Description = $"Update weights of fedasync, fedbuff and fedcompass: {UpdateWeightings.Federation} (α·S(τ)·n_k/N over all clients, the default) or {UpdateWeightings.Batch} (share of each aggregation, the earlier rule)", DefaultValueFactory = _ => UpdateWeightings.Federation };
        var taskTimeout = new Option<double>("--task-timeout") { Description = "Virtual seconds a task may take before it expires, as the server's task_timeout_seconds", DefaultValueFactory = _ => d.TaskTimeoutSeconds };
        var deadline = new Option<double>("--round-deadline") { Description = "Synchronous rounds: virtual seconds to a round's deadline", DefaultValueFactory = _ => d.RoundDeadlineSeconds };
        var model = new Option<string>("--model") { Description = $"Built-in model ({string.Join(", ", BuiltinModels.Names)})", DefaultValueFactory = _ => d.Model };
        var examples = new Option<int>("--examples-per-client") { Description = "Average training examples per client (the Dirichlet skew sets each shard's size)", DefaultValueFactory = _ => d.ExamplesPerClient };
        var evaluation = new Option<int>("--eval-examples") { Description = "Held-out examples evaluated after every aggregation", DefaultValueFactory = _ => d.EvaluationExamples };
        var learningRate = new Option<double>("--learning-rate") { Description = "AdamW peak learning rate", DefaultValueFactory = _ => d.LearningRate };
        var batchSize = new Option<int>("--batch-size") { Description = "Examples per training step", DefaultValueFactory = _ => d.BatchSize };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (1 keeps runs reproducible and leaves cores free)", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "Folder for results.csv, results.json, loss.png, accuracy.png and summary.md (default: runs/compare-<time>)" };

        var command = new Command("compare", "Compare schedulers × aggregation strategies in virtual time on the same seeds, partitions and client speeds")
        {
            clients, schedulers, strategies, seeds, speed, spread, secondsPerStep, trace, alpha, ranks, target, virtualTime, aggregations, costModel,
            minSteps, maxSteps, buffer, weighting, deadline, taskTimeout, model, examples, evaluation, learningRate, batchSize, threads, output,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Handle(parse, cancellationToken)));
        return command;

        int Handle(ParseResult parse, CancellationToken cancellationToken)
        {
            CompareSettings settings;
            try
            {
                settings = new CompareSettings
                {
                    Clients = parse.GetValue(clients),
                    Schedulers = List(parse.GetValue(schedulers)!),
                    Strategies = List(parse.GetValue(strategies)!),
                    Seeds = List(parse.GetValue(seeds)!).Select(s => Parse(s, "--seeds", ulong.Parse)).ToList(),
                    Speed = parse.GetValue(speed)!,
                    Spread = parse.GetValue(spread),
                    FastestSecondsPerStep = parse.GetValue(secondsPerStep),
                    TraceFile = parse.GetValue(trace),
                    Alpha = parse.GetValue(alpha),
                    Ranks = List(parse.GetValue(ranks)!).Select(s => Parse(s, "--ranks", int.Parse)).ToList(),
                    TargetAccuracy = parse.GetValue(target),
                    VirtualTime = parse.GetValue(virtualTime),
                    Aggregations = parse.GetValue(aggregations),
                    CostModel = parse.GetValue(costModel),
                    MinSteps = parse.GetValue(minSteps),
                    MaxSteps = parse.GetValue(maxSteps),
                    BufferSize = parse.GetValue(buffer),
                    Weighting = UpdateWeightings.Parse(parse.GetValue(weighting)!, "--weighting"),
                    RoundDeadlineSeconds = parse.GetValue(deadline),
                    TaskTimeoutSeconds = parse.GetValue(taskTimeout),
                    Model = parse.GetValue(model)!,
                    ExamplesPerClient = parse.GetValue(examples),
                    EvaluationExamples = parse.GetValue(evaluation),
                    LearningRate = parse.GetValue(learningRate),
                    BatchSize = parse.GetValue(batchSize),
                };
                settings.Validate();
                if (settings.Speed == "trace")
                    settings.SpeedModel();
            }
            catch (ArgumentException e)
            {
                AnsiConsole.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
                return 2;
            }
            if (parse.GetValue(threads) < 1)
            {
                AnsiConsole.MarkupLine($"[red]--threads must be at least 1, got {parse.GetValue(threads)}[/]");
                return 2;
            }
            try
            {
                PlotFont.Family(); // before the runs, not after them: the plots are written last
            }
            catch (InvalidOperationException e)
            {
                AnsiConsole.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
                return 1;
            }
            TorchSharp.torch.set_num_threads(parse.GetValue(threads));
            var folder = parse.GetValue(output) ?? Path.Combine("runs", $"compare-{DateTime.Now:yyyyMMdd-HHmmss}");
            return Execute(settings, folder, cancellationToken);
        }
    }

    private static int Execute(CompareSettings settings, string folder, CancellationToken cancellationToken)
    {
        var runs = settings.Seeds.Count * settings.Schedulers.Count * settings.Strategies.Count;
        AnsiConsole.MarkupLine($"[bold]federated compare[/]: {runs} runs ({Markup.Escape(string.Join(", ", settings.Schedulers))} × {Markup.Escape(string.Join(", ", settings.Strategies))} × seeds {Markup.Escape(string.Join(", ", settings.Seeds))}), " +
            (settings.CostModel ? "[yellow]cost model: no training[/]" : $"real LoRA training on {Markup.Escape(settings.Model)}"));
        var started = DateTime.UtcNow;
        ComparisonResult result = null!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var bars = new Dictionary<int, ProgressTask>();
                result = ComparisonRunner.Run(settings, p =>
                {
                    if (!bars.TryGetValue(p.Run, out var bar))
                        bars[p.Run] = bar = context.AddTask(Markup.Escape($"[{p.Run}/{p.Runs}] {p.Label}"), maxValue: 1000);
                    bar.Value = Math.Max(bar.Value, p.Fraction * 1000);
                }, warning => AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(warning)}[/]"), cancellationToken);
            });
        var files = ComparisonReport.Write(result, folder);
        AnsiConsole.WriteLine();
        AnsiConsole.WriteLine(ComparisonReport.Markdown(result));
        AnsiConsole.MarkupLine($"Took {(DateTime.UtcNow - started).TotalSeconds:F0} s. Wrote:");
        foreach (var file in files)
            AnsiConsole.MarkupLine($"  [blue]{Markup.Escape(Path.GetFullPath(file))}[/]");
        return 0;
    }

    private static List<string> List(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static T Parse<T>(string text, string option, Func<string, IFormatProvider, T> parse)
    {
        try
        {
            return parse(text, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new ArgumentException($"{option}: '{text}' is not a valid {typeof(T).Name}", e);
        }
    }
}
