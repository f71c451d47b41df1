using System.CommandLine;
using System.Globalization;
using Federated.Contracts.Jobs;
using Federated.Core.Adapters;
using Federated.Core.Adapters.Peft;
using Federated.Core.Aggregation;
using Federated.Core.Model;
using Federated.Protos;
using Federated.Protos.V1;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Spectre.Console;

namespace Federated.Simulations.Commands;

/// <summary>`federated job …`: create, inspect and follow jobs on a running coordinator.</summary>
public static class JobCommands
{
    internal static readonly Option<string> Server = ServerOption();

    internal static readonly Option<string?> Token = new("--token")
    {
        Description = "The coordinator's operator token, if it requires one (default: $FEDERATED_OPERATOR_TOKEN)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FEDERATED_OPERATOR_TOKEN"),
    };

    internal static readonly Option<string?> CaFingerprint = TrustOption("--ca-fingerprint", "FEDERATED_CA_FINGERPRINT",
        "For an https --server: the SHA-256 fingerprint of the coordinator's CA, as it logs it at start (default: $FEDERATED_CA_FINGERPRINT)", ServerTrust.FingerprintProblem);

    internal static readonly Option<string?> CaFile = TrustOption("--ca-file", "FEDERATED_CA_FILE",
        "For an https --server: a PEM file with the CA to trust, e.g. the coordinator's data/tls/ca.pem (default: $FEDERATED_CA_FILE)", ServerTrust.FileProblem);

    private static Option<string?> TrustOption(string name, string variable, string description, Func<string?, string?> problem)
    {
        var option = new Option<string?>(name) { Description = description, DefaultValueFactory = _ => Environment.GetEnvironmentVariable(variable) };
        option.Validators.Add(result =>
        {
            if (problem(result.GetValueOrDefault<string?>()) is { } error)
                result.AddError($"{name}: {error}");
        });
        return option;
    }

    /// <summary>`--server`: one address, or a cluster's silos separated by commas, checked when the command line is parsed.</summary>
    private static Option<string> ServerOption()
    {
        var option = new Option<string>("--server")
        {
            Description = "The coordinator's gRPC address, or several silos' separated by commas (the first that answers is used, the next when it goes away)",
            DefaultValueFactory = _ => "http://localhost:50051",
        };
        option.Validators.Add(result =>
        {
            if (!CoordinatorAddresses.TryParse(result.GetValueOrDefault<string>(), out _, out var error))
                result.AddError($"--server: {error}");
        });
        return option;
    }

    public static Command Create()
    {
        var job = new Command("job", "Create, inspect and follow jobs on a running coordinator") { CreateCommand(), StatusCommand(), WatchCommand(), ListCommand(), AdapterCommand() };
        foreach (var command in job.Subcommands)
        {
            command.Options.Add(Server);
            command.Options.Add(Token);
            command.Options.Add(CaFingerprint);
            command.Options.Add(CaFile);
        }
        return job;
    }

    private static Command CreateCommand()
    {
        var id = new Option<string?>("--id") { Description = "Job id (default: generated)" };
        var model = new Option<string>("--model") { Description = "Base model: builtin:tiny|small, a Hugging Face model directory or a llama2.c .bin file (the same path on the server and every client)", DefaultValueFactory = _ => BuiltinModels.Tiny };
        var rounds = new Option<int>("--rounds") { Description = "Federated rounds", Required = true };
        var ranks = new Option<string>("--ranks") { Description = "LoRA ranks handed to clients in turn, comma-separated", DefaultValueFactory = _ => "8" };
        var targets = new Option<string?>("--targets") { Description = $"Target modules, comma-separated (default: {string.Join(",", TargetModules.All)})" };
        var minClients = new Option<int>("--min-clients") { Description = "Updates needed to close a round", DefaultValueFactory = _ => 1 };
        var perRound = new Option<int?>("--clients-per-round") { Description = "Most clients given a task per round (default: --min-clients)" };
        var steps = new Option<int>("--steps") { Description = "Local steps per task", DefaultValueFactory = _ => 50 };
        var learningRate = new Option<double?>("--learning-rate") { Description = "AdamW peak learning rate" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Examples per step" };
        var maxLength = new Option<int?>("--max-sequence-length") { Description = "Tokens per training and evaluation sequence (default 64; real instruction data wants 256 or more)" };
        var accumulation = new Option<int?>("--grad-accumulation") { Description = "Micro-batches each batch is split into, gradients summed (default 1)" };
        var precision = new Option<string?>("--precision") { Description = "auto (bf16 on CUDA, f32 on CPU), f32, bf16 or fp16" };
        var checkpointing = new Option<bool>("--gradient-checkpointing") { Description = "Recompute each decoder layer in the backward pass to save memory" };
        var evaluation = new Option<string?>("--eval") { Description = "Held-out data on the server (a JSONL path, or builtin:synthetic?split=test&count=300)" };
        var timeout = new Option<int?>("--task-timeout") { Description = "Seconds before an unreturned task goes to another client" };
        var strategy = new Option<string>("--strategy") { Description = $"Aggregation: {string.Join(", ", AggregationStrategies.Names)}", DefaultValueFactory = _ => AggregationStrategies.Stacking };
        var compaction = new Option<int?>("--compaction-rank-budget") { Description = "Most rank per module of the compacted update a late client catches up with (default: exact)" };
        var scheduler = new Option<string>("--scheduler") { Description = $"Scheduling policy: {string.Join(", ", SchedulerConfig.Names)}", DefaultValueFactory = _ => SchedulerConfig.FedCompass };
        var minSteps = new Option<int?>("--min-steps") { Description = "fedcompass: fewest steps of a task (default 20)" };
        var maxSteps = new Option<int?>("--max-steps") { Description = "fedcompass: most steps of a task (default 100)" };
        var bufferSize = new Option<int?>("--buffer-size") { Description = "fedbuff: updates per aggregation (default 10)" };
        var weighting = new Option<string?>("--weighting") { Description = "Update weights of fedasync, fedbuff and fedcompass: federation (α·S(τ)·n_k/N over all clients, the default) or batch (share of each aggregation, the earlier rule)" };
        var rankTiers = new Option<string?>("--rank-tiers") { Description = "Ranks from each client's device, first match wins: RANK:MIN_GIB[:MAX_SECONDS_PER_STEP],… e.g. 16:16,8:8:2.5 (others take the first of --ranks)" };
        var command = new Command("create", "Start a job")
        {
            id, model, rounds, ranks, targets, minClients, perRound, steps, learningRate, batchSize, accumulation, precision, checkpointing, maxLength, evaluation, timeout, strategy, compaction, scheduler, minSteps, maxSteps, bufferSize, weighting, rankTiers,
        };
        command.SetAction(async (parse, cancellationToken) => await Call(parse, async client =>
        {
            var spec = new JobSpec
            {
                JobId = parse.GetValue(id) ?? "",
                BaseModel = parse.GetValue(model)!,
                Rounds = parse.GetValue(rounds),
                MinClientsPerRound = parse.GetValue(minClients),
                LocalSteps = parse.GetValue(steps),
                EvaluationDataset = parse.GetValue(evaluation) ?? "",
                Hyperparameters = new Hyperparameters(),
                AggregationStrategy = parse.GetValue(strategy)!,
                Scheduler = new SchedulerSpec { Policy = parse.GetValue(scheduler)! },
            };
            if (parse.GetValue(minSteps) is { } qMin)
                spec.Scheduler.MinSteps = qMin;
            if (parse.GetValue(maxSteps) is { } qMax)
                spec.Scheduler.MaxSteps = qMax;
            if (parse.GetValue(bufferSize) is { } k)
                spec.Scheduler.BufferSize = k;
            if (parse.GetValue(weighting) is { } w)
                spec.Scheduler.Weighting = w; // the server checks the name
            spec.Scheduler.RankTiers.AddRange(RankTiers.Parse(parse.GetValue(rankTiers)));
            if (parse.GetValue(compaction) is { } budget)
                spec.CompactionRankBudget = budget;
            if (parse.GetValue(perRound) is { } p)
                spec.ClientsPerRound = p;
            if (parse.GetValue(timeout) is { } t)
                spec.TaskTimeoutSeconds = t;
            if (parse.GetValue(learningRate) is { } lr)
                spec.Hyperparameters.LearningRate = lr;
            if (parse.GetValue(batchSize) is { } bs)
                spec.Hyperparameters.BatchSize = bs;
            if (parse.GetValue(maxLength) is { } length)
                spec.Hyperparameters.MaxSequenceLength = length;
            if (parse.GetValue(accumulation) is { } micro)
                spec.Hyperparameters.GradientAccumulationSteps = micro;
            if (parse.GetValue(precision) is { } format)
                spec.Hyperparameters.Precision = format;
            if (parse.GetValue(checkpointing))
                spec.Hyperparameters.GradientCheckpointing = true;
            spec.Ranks.AddRange(List(parse.GetValue(ranks)).Select(r => int.Parse(r, CultureInfo.InvariantCulture)));
            spec.TargetModules.AddRange(List(parse.GetValue(targets)));
            var status = await client.CreateJobAsync(new CreateJobRequest { Spec = spec }, cancellationToken: cancellationToken);
            AnsiConsole.MarkupLine($"Created job [bold]{Markup.Escape(status.JobId)}[/] on {Markup.Escape(status.Spec.BaseModel)}: {status.Spec.Rounds} rounds, ranks {string.Join(",", status.Spec.Ranks)}, at least {status.Spec.MinClientsPerRound} clients per round, {Markup.Escape(status.Spec.AggregationStrategy)} aggregation, {Markup.Escape(status.Spec.Scheduler?.Policy ?? "")} scheduling.");
        }));
        return command;
    }

    private static Command StatusCommand()
    {
        var id = new Argument<string>("id") { Description = "Job id" };
        var json = new Option<bool>("--json") { Description = "Print the job's status as JSON (the \"job\" object of `federated run`'s results.json) and nothing else; errors go to stderr" };
        var command = new Command("status", "Show a job's rounds and metrics") { id, json };
        command.SetAction(async (parse, cancellationToken) => await Call(parse, async client =>
        {
            var status = await client.GetJobAsync(new GetJobRequest { JobId = parse.GetValue(id)! }, cancellationToken: cancellationToken);
            if (parse.GetValue(json))
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(RunReport.JobJson(status).ToJsonString(RunReport.JsonOptions));
                return;
            }
            Describe(status);
            new RoundPrinter().PrintAll(status);
        }));
        return command;
    }

    private static Command WatchCommand()
    {
        var id = new Argument<string>("id") { Description = "Job id" };
        var command = new Command("watch", "Follow a job until it ends, printing each round; reconnects with backoff if the server restarts") { id };
        command.SetAction(async (parse, cancellationToken) => await Call(parse, async client =>
        {
            var printer = new RoundPrinter();
            var watch = new JobWatch(client, parse.GetValue(id)!, TimeProvider.System)
            {
                OnStatus = printer.Print,
                OnReconnecting = (e, wait) => AnsiConsole.MarkupLine($"[yellow]Lost the server ({Markup.Escape(e.StatusCode.ToString())}: {Markup.Escape(e.Status.Detail)}); reconnecting in {wait.TotalSeconds:0.#} s[/]"),
            };
            var final = await watch.RunAsync(cancellationToken);
            printer.PrintAll(final);
            Describe(final);
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var command = new Command("list", "List the coordinator's jobs");
        command.SetAction(async (parse, cancellationToken) => await Call(parse, async client =>
        {
            var reply = await client.ListJobsAsync(new ListJobsRequest(), cancellationToken: cancellationToken);
            foreach (var job in reply.Jobs)
                Describe(job);
            if (reply.Jobs.Count == 0)
                AnsiConsole.WriteLine("No jobs.");
        }));
        return command;
    }

    private static Command AdapterCommand()
    {
        var id = new Argument<string>("id") { Description = "Job id" };
        var round = new Option<int>("--round") { Description = "The round whose global model to export (default: the last completed)", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Directory to write the PEFT adapter to (adapter_config.json + adapter_model.safetensors)", Required = true };
        var command = new Command("adapter", "Download the global model's adapter after a round as a PEFT directory (load with PeftModel.from_pretrained)") { id, round, output };
        command.SetAction(async (parse, cancellationToken) => await Call(parse, async client =>
        {
            var jobId = parse.GetValue(id)!;
            var status = await client.GetJobAsync(new GetJobRequest { JobId = jobId }, cancellationToken: cancellationToken);
            var through = parse.GetValue(round) is > 0 and var r ? r : status.CompletedRounds;
            var folder = parse.GetValue(output)!;
            Directory.CreateDirectory(folder);
            var payload = Path.Combine(folder, ".global.safetensors");
            using (var call = client.DownloadGlobalAdapter(new DownloadGlobalAdapterRequest { JobId = jobId, ThroughRound = through }, cancellationToken: cancellationToken))
                await AdapterDownloads.ReceiveAsync(call.ResponseStream, payload, null, cancellationToken);
            var adapter = await AdapterSerializer.ReadFileAsync(payload, cancellationToken);
            File.Delete(payload);
            await PeftAdapterDirectory.WriteAsync(folder, adapter, status.Spec.BaseModel, cancellationToken);
            AnsiConsole.MarkupLine($"Wrote the global adapter of job [bold]{Markup.Escape(jobId)}[/] after round {through} (rank {adapter.Rank}, {adapter.ModuleNames.Count} modules) to {Markup.Escape(Path.GetFullPath(folder))}");
        }));
        return command;
    }

    private static void Describe(JobStatus status)
        => AnsiConsole.MarkupLine($"[bold]{Markup.Escape(status.JobId)}[/]: {status.State.ToString().ToLowerInvariant()}, {status.CompletedRounds}/{status.Spec.Rounds} rounds, base {Markup.Escape(status.Spec.BaseModel)}{(status.Error.Length > 0 ? $", error: {Markup.Escape(status.Error)}" : "")}");

    private static IEnumerable<string> List(string? text)
        => (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// Runs an operator call, turning refusals and unreachable servers into one readable line on stderr (stdout
    /// stays the command's output, e.g. clean JSON) and exit code 1.
    /// </summary>
    private static Task<int> Call(ParseResult parse, Func<Operator.OperatorClient, Task> action)
        => Call(parse, channel => action(new Operator.OperatorClient(channel)));

    /// <summary>Runs <paramref name="action"/> on a channel to --server with --token; a refusal is printed plainly (exit 1).</summary>
    internal static async Task<int> Call(ParseResult parse, Func<Grpc.Net.Client.GrpcChannel, Task> action)
    {
        var address = parse.GetValue(Server)!;
        var errors = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Error) });
        try
        {
            if (!string.IsNullOrWhiteSpace(parse.GetValue(CaFingerprint)) && !string.IsNullOrWhiteSpace(parse.GetValue(CaFile)))
                throw new FormatException("--ca-fingerprint and --ca-file are both given (or set through FEDERATED_CA_FINGERPRINT and FEDERATED_CA_FILE): give one");
            using var channel = GrpcChannels.Create(address, parse.GetValue(Token), trust: ServerTrust.From(parse.GetValue(CaFingerprint), parse.GetValue(CaFile)));
            await action(channel);
            return 0;
        }
        catch (RpcException e) when (ServerTrustException.Find(e) is { } untrusted)
        {
            // Plain text, unwrapped: the fingerprints in it are to be compared and copied whole.
            await parse.InvocationConfiguration.Error.WriteLineAsync($"Not connecting: {untrusted.Message}");
            return 1;
        }
        catch (RpcException e)
        {
            errors.MarkupLine($"[red]{Markup.Escape(e.StatusCode.ToString())}: {Markup.Escape(e.Status.Detail)}[/] (server {Markup.Escape(address)})");
            return 1;
        }
        catch (FormatException e)
        {
            errors.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            return 2;
        }
    }
}
