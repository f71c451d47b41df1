using System.Diagnostics;
using Federated.Core.Data;
using Federated.Core.Runtime;
using Federated.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federated.Simulations.LocalRuns;

/// <summary>
/// Runs a whole federated job on this machine: a coordinator and N client daemons in this process, talking
/// gRPC over loopback exactly as separate machines would. Each client gets its own shard of the built-in
/// task, or of a given JSONL dataset, as a JSONL file; the server evaluates the global model on held-out
/// examples after every round.
/// </summary>
public static class LocalFederation
{
    /// <param name="beforeShutdown">Called with the running clients once the job has ended, before they stop.</param>
    public static async Task<LocalRunResult> RunAsync(LocalRunSettings settings, Serilog.ILogger logger, Action<JobStatus>? onStatus = null, CancellationToken cancellationToken = default, Func<IReadOnlyList<LocalClient>, Task>? beforeShutdown = null)
    {
        var errors = settings.Validate().ToList();
        if (errors.Count > 0)
            throw new ArgumentException(string.Join("; ", errors));
        var clock = Stopwatch.StartNew();
        var output = Path.GetFullPath(settings.OutputDirectory);
        var shards = WriteClientData(settings, output);

        await using var server = await LocalServer.StartAsync(Path.Combine(output, "server"), logger, settings.GrpcPort, settings.HttpPort, settings.SiloPort, DataRoots(settings, output), cancellationToken: cancellationToken);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var operatorClient = new Operator.OperatorClient(channel);
        await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = JobSpec(settings) }, cancellationToken: cancellationToken);

        var clients = new List<LocalClient>();
        try
        {
            async Task Start(int i) => clients.Add(await StartClientAsync(i, server.GrpcAddress, shards[i], output, logger, settings.Device, cancellationToken));
            var early = settings.Clients - settings.LateClients;
            for (int i = 0; i < early; i++)
                await Start(i);
            if (settings.LateClients > 0)
            {
                // Late joiners start once the job has completed LateJoinRound rounds, and catch up then.
                var joined = await WatchAsync(operatorClient, settings.JobId, onStatus, cancellationToken, until: s => s.CompletedRounds >= settings.LateJoinRound || s.State != JobState.Running);
                if (joined.State == JobState.Running)
                {
                    await using var hold = await EarlyClientsHeld.StartAsync(server, settings.JobId, Enumerable.Range(0, early).Select(ClientName));
                    for (int i = early; i < settings.Clients; i++)
                        await Start(i);
                    await hold.UntilHoldingTasksAsync(Enumerable.Range(early, settings.LateClients).Select(ClientName), cancellationToken);
                }
            }
            var final = await WatchAsync(operatorClient, settings.JobId, onStatus, cancellationToken);
            if (beforeShutdown is not null)
                await beforeShutdown(clients);
            return new LocalRunResult(final, clock.Elapsed.TotalSeconds, output);
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }

    public static string ClientName(int index) => $"client-{index + 1}";

    /// <summary>Starts client <paramref name="index"/> of a local federation: named <see cref="ClientName"/>, working in output/clients/{name}/work.</summary>
    public static Task<LocalClient> StartClientAsync(int index, string serverAddress, string shard, string output, Serilog.ILogger logger, ComputeDevice device = ComputeDevice.Auto, CancellationToken cancellationToken = default)
    {
        var id = ClientName(index);
        return LocalClient.StartAsync(id, serverAddress, shard, Path.Combine(output, "clients", id, "work"), logger, device, cancellationToken: cancellationToken);
    }

    /// <summary>Starts one client per shard, in order (see <see cref="StartClientAsync"/>).</summary>
    public static async Task<List<LocalClient>> StartClientsAsync(string serverAddress, IReadOnlyList<string> shards, string output, Serilog.ILogger logger, ComputeDevice device = ComputeDevice.Auto, CancellationToken cancellationToken = default)
    {
        var clients = new List<LocalClient>(shards.Count);
        for (int i = 0; i < shards.Count; i++)
            clients.Add(await StartClientAsync(i, serverAddress, shards[i], output, logger, device, cancellationToken));
        return clients;
    }

    public static JobSpec JobSpec(LocalRunSettings settings)
    {
        var spec = new JobSpec
        {
            JobId = settings.JobId,
            BaseModel = settings.BaseModel,
            Rounds = settings.Rounds,
            MinClientsPerRound = settings.Clients - settings.LateClients,
            ClientsPerRound = settings.Clients,
            LocalSteps = settings.LocalSteps,
            Hyperparameters = new Hyperparameters
            {
                LearningRate = settings.LearningRate,
                BatchSize = settings.BatchSize,
                Seed = settings.Seed,
                GradientAccumulationSteps = settings.GradientAccumulationSteps,
                Precision = settings.Precision,
                GradientCheckpointing = settings.GradientCheckpointing,
            },
            EvaluationDataset = EvaluationDataset(settings),
            AggregationStrategy = settings.Strategy,
            Scheduler = new SchedulerSpec
            {
                Policy = settings.Scheduler,
                MinSteps = settings.MinSteps ?? Math.Max(1, settings.LocalSteps / 5),
                MaxSteps = settings.MaxSteps ?? settings.LocalSteps,
                BufferSize = settings.BufferSize ?? Math.Max(1, settings.Clients / 2),
            },
        };
        if (settings.Weighting is { } weighting)
            spec.Scheduler.Weighting = weighting;
        if (settings.MaxSequenceLength is { } length)
            spec.Hyperparameters.MaxSequenceLength = length;
        spec.Ranks.AddRange(settings.Ranks);
        for (int i = 0; i < settings.Clients; i++)
            spec.ClientRanks[ClientName(i)] = settings.Ranks[i % settings.Ranks.Count];
        return spec;
    }

    /// <summary>
    /// Writes each client's shard to clients/client-N/data/train.jsonl: of the built-in training split, or of
    /// <see cref="LocalRunSettings.DataPath"/> partitioned as asked, less a held-out slice written to eval.jsonl
    /// when no evaluation data is given.
    /// </summary>
    public static IReadOnlyList<string> WriteClientData(LocalRunSettings settings, string output)
    {
        string FolderOf(int i) => Path.Combine(output, "clients", ClientName(i), "data");
        if (settings.DataPath is null)
            return SyntheticShards.Write(settings.Clients, settings.ExamplesPerClient, settings.Seed, FolderOf);
        var examples = JsonlExamples.LoadPath(settings.DataPath);
        if (settings.EvaluationDataPath is null)
        {
            var (train, heldOut) = ExampleShards.HoldOut(examples, HeldOutCount(settings, examples.Count), settings.Seed);
            Directory.CreateDirectory(output);
            JsonlExamples.Write(Path.Combine(output, HeldOutFile), heldOut);
            examples = train;
        }
        return ExampleShards.Write(ExampleShards.Partition(examples, settings.Partition, settings.Clients, settings.Alpha, settings.Seed), FolderOf);
    }

    /// <summary>The server may read evaluation data from the run's output (the held-out slice) and the folder of --eval-data.</summary>
    private static Dictionary<string, string?> DataRoots(LocalRunSettings settings, string output)
    {
        var roots = new Dictionary<string, string?> { ["Server:DataRoots:0"] = output };
        if (settings.EvaluationDataPath is { } path)
            roots["Server:DataRoots:1"] = Directory.Exists(path) ? Path.GetFullPath(path) : Path.GetDirectoryName(Path.GetFullPath(path));
        return roots;
    }

    /// <summary>The held-out slice of --data: --eval-examples, but at most a tenth of the data.</summary>
    public static int HeldOutCount(LocalRunSettings settings, int examples) => Math.Min(settings.EvaluationExamples, Math.Max(1, examples / 10));

    private const string HeldOutFile = "eval.jsonl";

    /// <summary>What the server evaluates on: the given evaluation data, the held-out slice of the data, or the built-in test split.</summary>
    public static string EvaluationDataset(LocalRunSettings settings)
    {
        if (settings.EvaluationDataPath is not null)
            return Path.GetFullPath(settings.EvaluationDataPath);
        if (settings.DataPath is not null)
            return Path.Combine(Path.GetFullPath(settings.OutputDirectory), HeldOutFile);
        return DatasetSource.Synthetic(DataSplit.Test, settings.EvaluationExamples, settings.Seed);
    }

    /// <summary>
    /// Follows the job until nothing more will change and returns its last status, or, with
    /// <paramref name="until"/>, returns the first status that satisfies it (throwing if the job settles first).
    /// </summary>
    public static async Task<JobStatus> WatchAsync(Operator.OperatorClient client, string jobId, Action<JobStatus>? onStatus, CancellationToken cancellationToken, Func<JobStatus, bool>? until = null)
    {
        JobStatus? last = null;
        using var call = client.WatchJob(new WatchJobRequest { JobId = jobId }, cancellationToken: cancellationToken);
        await foreach (var status in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            last = status;
            onStatus?.Invoke(status);
            if (until?.Invoke(status) == true)
                return status;
        }
        if (until is not null)
            throw new InvalidOperationException($"job '{jobId}' settled without reaching the awaited state");
        return last ?? throw new InvalidOperationException($"the server sent no status for job '{jobId}'");
    }
}

/// <summary>How a local run ended.</summary>
public sealed record LocalRunResult(JobStatus Job, double WallSeconds, string OutputDirectory);
