using System.CommandLine;
using System.Globalization;
using Federated.Contracts.Jobs;
using Federated.Core.Aggregation;
using Federated.Core.Data;
using Federated.Core.Model;
using Federated.Core.Runtime;
using Federated.Protos.V1;
using Federated.Simulations.LocalRuns;
using Serilog;
using Spectre.Console;

namespace Federated.Simulations.Commands;

/// <summary>`federated run`: a whole federated job on this machine, printing held-out metrics per round.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var defaults = new LocalRunSettings { OutputDirectory = "" };
        var clients = new Option<int>("--clients") { Description = "Client daemons to start", DefaultValueFactory = _ => defaults.Clients };
        var rounds = new Option<int>("--rounds") { Description = "Federated rounds", DefaultValueFactory = _ => defaults.Rounds };
        var ranks = new Option<string>("--ranks") { Description = "LoRA ranks handed to clients in turn, comma-separated", DefaultValueFactory = _ => string.Join(',', defaults.Ranks) };
        var steps = new Option<int>("--steps") { Description = "Local training steps per client per round", DefaultValueFactory = _ => defaults.LocalSteps };
        var examples = new Option<int>("--examples-per-client") { Description = "Training examples in each client's private shard", DefaultValueFactory = _ => defaults.ExamplesPerClient };
        var evaluation = new Option<int>("--eval-examples") { Description = "Held-out examples the server evaluates on (with --data and no --eval-data: at most a tenth of --data)", DefaultValueFactory = _ => defaults.EvaluationExamples };
        var model = new Option<string>("--model") { Description = $"Base model: {string.Join(", ", BuiltinModels.Names)}, a Hugging Face model directory or a llama2.c .bin file", DefaultValueFactory = _ => defaults.BaseModel };
        var data = new Option<string?>("--data") { Description = "Training data instead of the built-in task: a JSONL file or folder (prompt/completion, Alpaca, Dolly, chat or text), split across the clients" };
        var evaluationData = new Option<string?>("--eval-data") { Description = "Held-out JSONL the server evaluates on (default: a held-out slice of --data)" };
        var partition = new Option<PartitionScheme>("--partition") { Description = "How --data is split: iid, dirichlet (label skew over the records' \"category\") or quantity (size skew)", DefaultValueFactory = _ => defaults.Partition };
        var alpha = new Option<double>("--alpha") { Description = "Dirichlet concentration for --partition dirichlet or quantity (smaller: more skewed)", DefaultValueFactory = _ => defaults.Alpha };
        var maxLength = new Option<int?>("--max-sequence-length") { Description = "Tokens per training and evaluation sequence (default: the job default)" };
        var learningRate = new Option<double>("--learning-rate") { Description = "AdamW peak learning rate", DefaultValueFactory = _ => defaults.LearningRate };
        var batchSize = new Option<int>("--batch-size") { Description = "Examples per training step", DefaultValueFactory = _ => defaults.BatchSize };
        var accumulation = new Option<int>("--grad-accumulation") { Description = "Micro-batches each batch is split into, gradients summed", DefaultValueFactory = _ => defaults.GradientAccumulationSteps };
        var precision = new Option<string>("--precision") { Description = "auto (bf16 on CUDA, f32 on CPU), f32, bf16 or fp16", DefaultValueFactory = _ => defaults.Precision };
        var checkpointing = new Option<bool>("--gradient-checkpointing") { Description = "Recompute each decoder layer in the backward pass to save memory" };
        var seed = new Option<ulong>("--seed") { Description = "Seed for data, initialisation and order", DefaultValueFactory = _ => defaults.Seed };
        var device = new Option<ComputeDevice>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => ComputeDevice.Auto };
        var strategy = new Option<string>("--strategy") { Description = $"Aggregation: {string.Join(", ", AggregationStrategies.Names)}", DefaultValueFactory = _ => defaults.Strategy };
        var lateClients = new Option<int>("--late-clients") { Description = "How many clients (the last ones) join late", DefaultValueFactory = _ => 0 };
        var lateJoin = new Option<int>("--late-join-round") { Description = "Late clients start once this many rounds are done, then catch up with one compacted update", DefaultValueFactory = _ => defaults.LateJoinRound };
        var scheduler = new Option<string>("--scheduler") { Description = $"Scheduling policy: {string.Join(", ", SchedulerConfig.Names)}", DefaultValueFactory = _ => defaults.Scheduler };
        var minSteps = new Option<int?>("--min-steps") { Description = "fedcompass: fewest steps of a task (default: --steps / 5)" };
        var maxSteps = new Option<int?>("--max-steps") { Description = "fedcompass: most steps of a task (default: --steps)" };
        var bufferSize = new Option<int?>("--buffer-size") { Description = "fedbuff: updates per aggregation (default: half the clients)" };
        var weighting = new Option<string?>("--weighting") { Description = "Update weights of fedasync, fedbuff and fedcompass: federation (α·S(τ)·n_k/N over all clients, the default) or batch (share of each aggregation, the earlier rule)" };
        var output = new Option<string?>("--out") { Description = "Folder for data, logs and results (default: runs/run-<time>)" };

        var command = new Command("run", "Run a federated LoRA job on this machine: an in-process server and client daemons over loopback gRPC, on the built-in task or your JSONL data")
        {
            clients, rounds, ranks, steps, examples, evaluation, model, data, evaluationData, partition, alpha, maxLength, learningRate, batchSize, accumulation, precision, checkpointing, seed, device, strategy, lateClients, lateJoin, scheduler, minSteps, maxSteps, bufferSize, weighting, output,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            List<int> rankList;
            try
            {
                rankList = parse.GetValue(ranks)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(r => int.Parse(r, CultureInfo.InvariantCulture)).ToList();
            }
            catch (FormatException)
            {
                AnsiConsole.MarkupLine($"[red]--ranks must be comma-separated integers, got '{Markup.Escape(parse.GetValue(ranks)!)}'[/]");
                return 2;
            }
            var settings = new LocalRunSettings
            {
                Clients = parse.GetValue(clients),
                Rounds = parse.GetValue(rounds),
                Ranks = rankList,
                LocalSteps = parse.GetValue(steps),
                ExamplesPerClient = parse.GetValue(examples),
                EvaluationExamples = parse.GetValue(evaluation),
                BaseModel = parse.GetValue(model)!,
                DataPath = parse.GetValue(data),
                EvaluationDataPath = parse.GetValue(evaluationData),
                Partition = parse.GetValue(partition),
                Alpha = parse.GetValue(alpha),
                MaxSequenceLength = parse.GetValue(maxLength),
                LearningRate = parse.GetValue(learningRate),
                BatchSize = parse.GetValue(batchSize),
                GradientAccumulationSteps = parse.GetValue(accumulation),
                Precision = parse.GetValue(precision)!,
                GradientCheckpointing = parse.GetValue(checkpointing),
                Seed = parse.GetValue(seed),
                Device = parse.GetValue(device),
                Strategy = parse.GetValue(strategy)!,
                LateClients = parse.GetValue(lateClients),
                LateJoinRound = parse.GetValue(lateJoin),
                Scheduler = parse.GetValue(scheduler)!,
                MinSteps = parse.GetValue(minSteps),
                MaxSteps = parse.GetValue(maxSteps),
                BufferSize = parse.GetValue(bufferSize),
                Weighting = parse.GetValue(weighting),
                OutputDirectory = parse.GetValue(output) ?? Path.Combine("runs", $"run-{DateTime.Now:yyyyMMdd-HHmmss}"),
            };
            return await Execute(settings, cancellationToken);
        });
        return command;
    }

    private static async Task<int> Execute(LocalRunSettings settings, CancellationToken cancellationToken)
    {
        var errors = settings.Validate().ToList();
        if (errors.Count > 0)
        {
            foreach (var error in errors)
                AnsiConsole.MarkupLine($"[red]{Markup.Escape(error)}[/]");
            return 2;
        }
        Directory.CreateDirectory(settings.OutputDirectory);
        var logPath = Path.Combine(settings.OutputDirectory, "federated.log");
        await using var logger = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
            .MinimumLevel.Override("Orleans", Serilog.Events.LogEventLevel.Warning)
            .MinimumLevel.Override("Grpc", Serilog.Events.LogEventLevel.Warning)
            .MinimumLevel.Override("Polly", Serilog.Events.LogEventLevel.Warning)
            .MinimumLevel.Override("Orleans.Runtime.Silo", Serilog.Events.LogEventLevel.Error) // its advice to use the server GC does not fit a one-machine run
            .Enrich.FromLogContext()
            .WriteTo.File(logPath, outputTemplate: "{Timestamp:HH:mm:ss.fff} [{Level:u3}] {SourceContext} {ClientId}: {Message:lj}{NewLine}{Exception}")
            .CreateLogger();

        AnsiConsole.MarkupLine($"[bold]Federated LoRA on {Markup.Escape(settings.BaseModel)}[/]: {settings.Clients} clients (ranks {string.Join(", ", Enumerable.Range(0, settings.Clients).Select(i => settings.Ranks[i % settings.Ranks.Count]))}), {settings.Rounds} rounds × {settings.LocalSteps} local steps, {Markup.Escape(settings.Strategy)} aggregation, {Markup.Escape(settings.Scheduler)} scheduling");
        if (settings.DataPath is not null)
            AnsiConsole.MarkupLine($"Data: {Markup.Escape(settings.DataPath)}, {settings.Partition.ToString().ToLowerInvariant()} partition{(settings.Partition == PartitionScheme.Iid ? "" : FormattableString.Invariant($" (α = {settings.Alpha})"))}; evaluated on {Markup.Escape(settings.EvaluationDataPath ?? "a held-out slice of it")}");
        AnsiConsole.MarkupLine($"Output and log: [blue]{Markup.Escape(Path.GetFullPath(settings.OutputDirectory))}[/]");
        AnsiConsole.WriteLine();

        var printer = new RoundPrinter();
        LocalRunResult result;
        try
        {
            result = await AnsiConsole.Status().StartAsync("Starting server and clients…", async context =>
                await LocalFederation.RunAsync(settings, logger, status =>
                {
                    printer.Print(status);
                    context.Status(RoundPrinter.Describe(status));
                }, cancellationToken));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.Error(e, "The run failed");
            AnsiConsole.MarkupLine($"[red]The run failed: {Markup.Escape(e.Message)}[/] (details in {Markup.Escape(logPath)})");
            return 1;
        }

        var files = RunReport.Write(result, settings);
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLine(Summary(result));
        AnsiConsole.MarkupLine($"Results: {string.Join(", ", files.Select(f => Markup.Escape(f)))}");
        return result.Job.State == JobState.Completed ? 0 : 1;
    }

    private static string Summary(LocalRunResult result)
    {
        var job = result.Job;
        var last = job.Rounds.LastOrDefault()?.Evaluation;
        var wall = result.WallSeconds.ToString("F1", CultureInfo.InvariantCulture);
        if (job.Baseline is null || last is null)
            return $"Job {job.State.ToString().ToLowerInvariant()} after {job.CompletedRounds} rounds in {wall} s.";
        return string.Create(CultureInfo.InvariantCulture,
            $"[bold]Held-out loss {job.Baseline.Loss:F3} → {last.Loss:F3}[/], token accuracy {job.Baseline.TokenAccuracy:P1} → {last.TokenAccuracy:P1}, exact match {job.Baseline.ExactMatch:P1} → {last.ExactMatch:P1}; {job.CompletedRounds} rounds in {wall} s.");
    }
}
