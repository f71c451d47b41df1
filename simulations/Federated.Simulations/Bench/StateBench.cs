using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Core.Scheduling;
using Federated.Core.Scheduling.Ledger;
using Federated.Core.Scheduling.Simulation;
using Federated.Server.Scheduling;
using Federated.Server.Storage;
using Spectre.Console;

namespace Federated.Simulations.Bench;

/// <summary>
/// A job scheduler's persisted state (<see cref="SchedulerState"/>: the task ledger with one open task and one
/// accepted upload per client, queued aggregations, ranks, and the fedcompass policy's state after a few tasks per
/// client in virtual time) as the state file writes it, MessagePack behind its header, against the
/// System.Text.Json file it replaced ({"Version", "State"}, indented, enums as names), in the same run.
/// Save is state to file bytes and load is file bytes to state, in memory: the write's fsync costs the same for
/// both and is left out.
/// </summary>
public sealed class StateBench : IBenchSection
{
    public string Name => "state";

    public string Description => "a scheduler's grain state with 10,000 clients, MessagePack against System.Text.Json";

    public Task RunAsync(bool quick, CancellationToken cancellationToken)
    {
        var clients = quick ? 1_000 : 10_000;
        var result = Measure(clients, repeats: quick ? 3 : 9);
        var table = new Table().AddColumns("Format", "Size", "Save", "Load");
        table.AddRow("System.Text.Json (the former file)", BenchShapes.Bytes(result.JsonBytes), Ms(result.JsonSave), Ms(result.JsonLoad));
        table.AddRow("MessagePack + header", BenchShapes.Bytes(result.MessagePackBytes), Ms(result.MessagePackSave), Ms(result.MessagePackLoad));
        table.AddRow("[bold]MessagePack / JSON[/]", Fraction(result.SizeRatio), Fraction(result.SaveRatio), Fraction(result.LoadRatio));
        AnsiConsole.MarkupLine($"{result.Clients:N0} clients, {result.Tasks:N0} ledger tasks, {result.OpenGroups} fedcompass groups; median of {result.Repeats} alternating runs (range in brackets), in memory.");
        AnsiConsole.MarkupLine($"Unindented, the JSON file would be {BenchShapes.Bytes(result.CompactJsonBytes)} (MessagePack / that: {Fraction((double)result.MessagePackBytes / result.CompactJsonBytes)}).");
        AnsiConsole.MarkupLine($"Of MessagePack's, the policy's state (a JSON string in both formats) is {BenchShapes.Bytes(result.PolicyStateBytes)}, serialised in {result.PolicySerialise.Median * 1e3:F1} ms at each save.");
        AnsiConsole.Write(table);
        return Task.CompletedTask;
    }

    /// <summary>Builds the state, checks that both formats read back what was written, and times both.</summary>
    public static StateBenchResult Measure(int clients, int repeats = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(clients, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        var (state, groups) = SchedulerStateOf(clients);
        var policyState = SchedulerPolicies.Deserialise(state.PolicyState, "bench")!;
        var serializer = new MessagePackGrainStateSerializer();
        byte[] SaveMessagePack() => StateFileFormat.Encode(7, serializer.Serialize(state).ToMemory().Span);
        SchedulerState LoadMessagePack(byte[] file)
            => serializer.Deserialize<SchedulerState>(new BinaryData(StateFileFormat.Decode(file, "bench", out _)!.Value.Payload));
        byte[] SaveJson() => JsonSerializer.SerializeToUtf8Bytes(new JsonFile(7, state), Json);
        SchedulerState LoadJson(byte[] file) => JsonSerializer.Deserialize<JsonFile>(file, Json)!.State;

        var packed = SaveMessagePack();
        var json = SaveJson();
        // Both must hold the same state, or the comparison means nothing.
        var expected = JsonSerializer.Serialize(state, Json);
        if (JsonSerializer.Serialize(LoadMessagePack(packed), Json) != expected || JsonSerializer.Serialize(LoadJson(json), Json) != expected)
            throw new InvalidOperationException("a format did not read back the state it wrote");

        SaveMessagePack(); // warm-up: the contractless formatters are emitted at first use
        SaveJson();
        List<double> packSave = [], packLoad = [], jsonSave = [], jsonLoad = [], policy = [];
        for (var i = 0; i < repeats; i++)
        {
            packSave.Add(Time(SaveMessagePack));
            jsonSave.Add(Time(SaveJson));
            packLoad.Add(Time(() => LoadMessagePack(packed)));
            jsonLoad.Add(Time(() => LoadJson(json)));
            policy.Add(Time(() => SchedulerPolicies.Serialise(policyState)));
        }
        return new StateBenchResult(clients, state.Issued.Count, groups, repeats, packed.Length, json.Length,
            Spread.Of(packSave), Spread.Of(packLoad), Spread.Of(jsonSave), Spread.Of(jsonLoad),
            System.Text.Encoding.UTF8.GetByteCount(state.PolicyState), Spread.Of(policy),
            JsonSerializer.SerializeToUtf8Bytes(new JsonFile(7, state), CompactJson).Length);

        double Time<T>(Func<T> action)
        {
            // Each run from a collected heap, so one format's garbage is not collected in the other's time.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var clock = Stopwatch.StartNew();
            GC.KeepAlive(action());
            return clock.Elapsed.TotalSeconds;
        }
    }

    /// <summary>
    /// A scheduler's state with <paramref name="clients"/> clients: the fedcompass policy run for about three
    /// tasks per client in virtual time, then a ledger holding each client's open task and its last accepted
    /// upload, and the aggregations not yet committed.
    /// </summary>
    public static (SchedulerState State, int OpenGroups) SchedulerStateOf(int clients, ulong seed = 1)
    {
        var policy = new FedCompassOptions().CreatePolicy();
        new VirtualTimeEngine(new SimulationOptions
        {
            Clients = clients,
            Seed = seed,
            Speeds = new UniformSpeed(0.5, 5),
            Drift = 0.05,
            MaxAggregations = long.MaxValue,
            MaxEvents = clients * 3L,
        }, new NoTraining()).Run(policy);
        var compass = (FedCompassState)policy.State;
        var origin = new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);
        var random = new Random((int)seed);
        var state = new SchedulerState { PolicyState = SchedulerPolicies.Serialise(policy.State), NextRankIndex = clients % 3 };
        var pending = new List<PendingContribution>();
        var index = 0;
        foreach (var client in compass.Clients.Values)
        {
            state.AssignedRanks[client.ClientId] = 8 << (index++ % 3);
            var open = client.Task ?? new OpenTask { TaskId = compass.NextTaskId + index, Steps = 20, StartVersion = compass.Version };
            state.Issued[open.TaskId] = LedgerEntry(client.ClientId, open.TaskId, open.StartVersion, open.Steps, LedgerTaskStatus.Open, null);
            var answered = open.TaskId + compass.NextTaskId + clients; // its answered task's id, apart from every open one
            var submission = new UpdateSubmission
            {
                ClientId = client.ClientId,
                TaskId = $"job.t{answered}.{client.ClientId}",
                Round = (int)open.StartVersion,
                Sha256 = Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64())) + new string('0', 48),
                SizeBytes = 1_048_576 + random.Next(1 << 20),
                NumSamples = 100 + random.Next(400),
                Stats = new UpdateStats { Steps = open.Steps, FirstLoss = 2 + random.NextDouble(), MeanLoss = 1.5 + random.NextDouble(), FinalLoss = 1 + random.NextDouble(), ComputeSeconds = 30 * random.NextDouble(), SecondsPerStep = client.SecondsPerStep ?? 1, Tokens = 64 * 16 * open.Steps, DownloadSeconds = random.NextDouble() },
            };
            state.Issued[answered] = LedgerEntry(client.ClientId, answered, Math.Max(0, open.StartVersion - 1), open.Steps, LedgerTaskStatus.Accepted, submission);
            if (pending.Count < 64)
                pending.Add(new PendingContribution { PolicyTaskId = answered, Weight = random.NextDouble(), Staleness = random.Next(3) });
        }
        for (var at = 0; at < pending.Count; at += 16)
            state.Aggregations.Add(new PendingAggregation { Version = compass.Version + 1 + at / 16, GroupId = compass.Groups.Keys.FirstOrDefault(), Updates = pending.Skip(at).Take(16).ToList() });
        return (state, compass.Groups.Count);

        LedgerTask<UpdateSubmission> LedgerEntry(string client, long id, long start, int steps, LedgerTaskStatus status, UpdateSubmission? update) => new()
        {
            WireTaskId = $"job.t{id}.{client}",
            PolicyTaskId = id,
            ClientId = client,
            WireRound = (int)start + 1,
            StartVersion = start,
            Steps = steps,
            Rank = 16,
            Alpha = 32,
            IssuedAt = origin.AddSeconds(id),
            Deadline = origin.AddSeconds(id + 600),
            ArrivedAt = update is null ? null : origin.AddSeconds(id + 120),
            Group = compass.Groups.Count > 0 ? compass.Groups.Keys.First() : null,
            Status = status,
            UpdateSha256 = update?.Sha256,
            Samples = update?.NumSamples ?? 0,
            Update = update,
        };
    }

    /// <summary>What FileGrainStorage wrote before MessagePack.</summary>
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };

    private static readonly JsonSerializerOptions CompactJson = new(Json) { WriteIndented = false };

    private sealed record JsonFile(long Version, SchedulerState State);

    private static string Ms(Spread seconds) => $"{(seconds.Median * 1e3).ToString("F1", CultureInfo.InvariantCulture)} ms ({(seconds.Min * 1e3).ToString("F1", CultureInfo.InvariantCulture)}–{(seconds.Max * 1e3).ToString("F1", CultureInfo.InvariantCulture)})";

    private static string Fraction(double ratio) => ratio.ToString("F2", CultureInfo.InvariantCulture);
}

/// <summary>Sizes in bytes and times in seconds of one run; ratios are MessagePack over JSON (below 1: MessagePack is smaller or faster).</summary>
public sealed record StateBenchResult(
    int Clients,
    int Tasks,
    int OpenGroups,
    int Repeats,
    long MessagePackBytes,
    long JsonBytes,
    Spread MessagePackSave,
    Spread MessagePackLoad,
    Spread JsonSave,
    Spread JsonLoad,
    long PolicyStateBytes,
    Spread PolicySerialise,
    long CompactJsonBytes)
{
    public double SizeRatio => (double)MessagePackBytes / JsonBytes;

    public double SaveRatio => MessagePackSave.Median / JsonSave.Median;

    public double LoadRatio => MessagePackLoad.Median / JsonLoad.Median;
}
