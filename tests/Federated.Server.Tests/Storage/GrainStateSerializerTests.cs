using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Federated.Contracts.Clients;
using Federated.Contracts.Compaction;
using Federated.Contracts.Jobs;
using Federated.Server.Clients;
using Federated.Server.Compaction;
using Federated.Server.Dashboard;
using Federated.Server.Jobs;
using Federated.Server.Scheduling;
using Federated.Server.Storage;
using Federated.Simulations.Bench;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Federated.Server.Tests.Storage;

/// <summary>Every grain state type of the server, filled as a running server fills it, reads back from MessagePack unchanged.</summary>
public class GrainStateSerializerTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 2, 9, 15, 30, 123, TimeSpan.FromHours(2)); // an offset, to see it kept

    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    /// <summary>One realistic value of each type a grain keeps with <c>IPersistentState&lt;T&gt;</c>.</summary>
    public static TheoryData<string> StateTypes => [.. Samples().Keys];

    [Theory]
    [MemberData(nameof(StateTypes))]
    public void A_state_reads_back_equal_to_what_was_written(string type)
    {
        var sample = Samples()[type];
        var serializer = new MessagePackGrainStateSerializer();
        var read = RoundTrip(serializer, sample);
        Assert.Equal(sample.GetType(), read.GetType());
        Assert.Equal(JsonSerializer.Serialize(sample, sample.GetType(), Json), JsonSerializer.Serialize(read, read.GetType(), Json));
    }

    [Fact]
    public void The_samples_cover_every_persistent_state_of_the_server()
    {
        var persisted = typeof(JobGrain).Assembly.GetTypes()
            .SelectMany(t => t.GetConstructors())
            .SelectMany(c => c.GetParameters())
            .Select(p => p.ParameterType)
            .Where(t => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Orleans.Runtime.IPersistentState<>))
            .Select(t => t.GetGenericArguments()[0].Name)
            .ToHashSet();
        Assert.NotEmpty(persisted);
        Assert.Subset(Samples().Keys.ToHashSet(), persisted);
    }

    [Fact]
    public void A_scheduler_state_with_thousands_of_clients_reads_back_equal()
    {
        var (state, _) = StateBench.SchedulerStateOf(500);
        var read = RoundTrip(new MessagePackGrainStateSerializer(), state);
        Assert.Equal(1000, read.Issued.Count);
        Assert.Equal(JsonSerializer.Serialize(state, Json), JsonSerializer.Serialize(read, Json));
        Assert.NotNull(SchedulerPolicies.Deserialise(read.PolicyState, "j")); // the policy's string is still its JSON
    }

    [Fact]
    public void Bytes_that_are_not_the_type_fail_with_a_serialization_error()
    {
        var serializer = new MessagePackGrainStateSerializer();
        var text = serializer.Serialize("not a job");
        Assert.ThrowsAny<MessagePack.MessagePackSerializationException>(() => serializer.Deserialize<JobState>(text));
    }

    [Fact]
    public void Registering_it_replaces_orleans_default_whichever_comes_first_and_only_once()
    {
        var before = new ServiceCollection();
        before.AddSingleton<IGrainStorageSerializer, OtherSerializer>(); // as Orleans' silo defaults do
        before.AddFederatedGrainStateSerializer().AddFederatedGrainStateSerializer();
        using var first = before.BuildServiceProvider();
        Assert.IsType<MessagePackGrainStateSerializer>(first.GetRequiredService<IGrainStorageSerializer>());
        Assert.Same(first.GetRequiredService<MessagePackGrainStateSerializer>(), first.GetRequiredService<IGrainStorageSerializer>());
        Assert.Single(before, d => d.ServiceType == typeof(IGrainStorageSerializer));

        var after = new ServiceCollection();
        after.AddFederatedGrainStateSerializer();
        Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions.TryAddSingleton<IGrainStorageSerializer, OtherSerializer>(after);
        using var second = after.BuildServiceProvider();
        Assert.IsType<MessagePackGrainStateSerializer>(second.GetRequiredService<IGrainStorageSerializer>());
    }

    private static object RoundTrip(MessagePackGrainStateSerializer serializer, object value)
    {
        var method = typeof(GrainStateSerializerTests).GetMethod(nameof(RoundTripOf), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(value.GetType());
        return method.Invoke(null, [serializer, value])!;
    }

    private static T RoundTrip<T>(MessagePackGrainStateSerializer serializer, T value) => RoundTripOf(serializer, value);

    private static T RoundTripOf<T>(MessagePackGrainStateSerializer serializer, T value) => serializer.Deserialize<T>(serializer.Serialize(value));

    private static Federated.Server.Access.AuditRecord Audit(long sequence) => new()
    {
        Sequence = sequence, At = At, Who = "ada", Role = Federated.Contracts.Access.OperatorRole.Operator, Action = "PauseJob", Target = "job_id=j", Outcome = "done", Detail = "", From = "10.0.0.2", Through = "grpc",
    };

    private static Dictionary<string, object> Samples()
    {
        var stats = new UpdateStats { Steps = 20, FirstLoss = 2.5, MeanLoss = 1.9, FinalLoss = 1.25, ComputeSeconds = 31.5, SecondsPerStep = 1.575, Tokens = 20_480, DownloadSeconds = 0.25 };
        var config = new JobConfig
        {
            BaseModel = "builtin:tiny",
            BaseModelFingerprint = "f00d",
            TargetModules = ["q_proj", "v_proj"],
            Ranks = [8, 16],
            ClientRanks = new() { ["a"] = 4 },
            Rounds = 5,
            MinClientsPerRound = 2,
            ClientsPerRound = 3,
            LocalSteps = 20,
            Hyperparameters = new TrainingHyperparameters { LearningRate = 3e-4, Seed = ulong.MaxValue, Precision = "bf16", GradientCheckpointing = true },
            EvaluationDataset = null,
            TaskTimeout = TimeSpan.FromSeconds(90.5),
            ClientWeights = new() { ["a"] = 0.5 },
            CompactionRankBudget = 32,
            Scheduler = new SchedulerConfig { Policy = SchedulerConfig.FedCompass, RankTiers = [new RankTierConfig(16, 8, null), new RankTierConfig(8, 0, 2.5)] },
        };
        var round = new RoundRecord
        {
            Round = 1,
            UpdateSha256 = new string('a', 64),
            UpdateBytes = 1 << 20,
            StackedRank = 24,
            Participants = [new ParticipantRecord { ClientId = "a", TaskId = "j.t1.a", Rank = 8, Alpha = 16, NumSamples = 120, Weight = 0.4, UpdateSha256 = new string('b', 64), Stats = stats, Staleness = 1, Steps = 20, IssuedAt = At, ArrivedAt = At.AddMinutes(1), Deadline = null, Group = 3 }],
            StartedAt = At,
            CompletedAt = At.AddMinutes(2),
            Evaluation = new EvaluationSummary(1.2, 0.6, 0.1, 64),
            ClientViews = [new ClientViewRecord(8, new string('c', 64), 4096)],
        };
        var scheduler = StateBench.SchedulerStateOf(12).State;
        return new Dictionary<string, object>
        {
            [nameof(JobState)] = new JobState { Config = config, Status = JobStatusKind.Paused, CreatedAt = At, History = [round], Baseline = new EvaluationSummary(2, 0.3, 0, 64), Error = null, EvaluationError = "evaluator: no data", Events = [new JobEvent(At, "created")], ChangeCount = 42 },
            [nameof(ClientState)] = new ClientState
            {
                Profile = new ClientProfile { Device = "cuda", CpuCores = 16, MemoryBytes = 64L << 30, AcceleratorName = "H200", AcceleratorMemoryBytes = 139L << 30, MeasuredGflops = 512.5, ClientVersion = "1.2.3", Labels = new() { ["site"] = "lab" } },
                EnrolledAt = At,
                LastSeen = At.AddHours(1),
                TasksCompleted = 7,
                TasksExpired = 1,
                SecondsPerStep = null,
                Admission = ClientAdmission.Draining,
                Rank = 16,
                SpeedTrend = [1.5, 1.25, double.Epsilon],
                CredentialHash = [1, 2, 3, 255],
                JoinTokenId = "a1b2c3",
                CredentialUsed = true,
            },
            [nameof(SchedulerState)] = scheduler,
            [nameof(CompactionState)] = new CompactionState { ByKey = new() { ["8:1-3"] = new CatchUp { Sha256 = new string('d', 64), SizeBytes = 10, Rank = 8, InputRank = 24, RelativeError = 0.01, Covers = ["x", "y"], ThroughRound = 3 } } },
            [nameof(JobDirectoryState)] = new JobDirectoryState { Jobs = ["a", "b"], Active = ["b"] },
            [nameof(ClientDirectoryState)] = new ClientDirectoryState { Clients = ["first", "second"] },
            [nameof(Federated.Server.Access.JoinTokensState)] = new Federated.Server.Access.JoinTokensState
            {
                Tokens = new(StringComparer.Ordinal) { ["a1b2c3"] = new Federated.Server.Access.JoinTokenRecord { SecretHash = [9, 8, 7], Label = "rack 4", Uses = 3, CreatedAt = At, ExpiresAt = At.AddDays(1), Revoked = true, CreatedBy = "admin", Clients = ["first"] } },
            },
            [nameof(Federated.Server.Access.OperatorAccountsState)] = new Federated.Server.Access.OperatorAccountsState
            {
                Accounts = new(StringComparer.Ordinal) { ["vic"] = new Federated.Server.Access.OperatorAccountRecord { Role = Federated.Contracts.Access.OperatorRole.Viewer, KeyHash = [4, 5, 6], CreatedAt = At, CreatedBy = "admin" } },
            },
            [nameof(Federated.Server.Access.AuditLogState)] = new Federated.Server.Access.AuditLogState { NextSequence = 300, FirstSegment = 1, NextSegment = 2, Open = [Audit(257)] },
            [nameof(Federated.Server.Access.AuditSegmentState)] = new Federated.Server.Access.AuditSegmentState { Entries = [Audit(1), Audit(2)] },
            [nameof(DashboardSessionsState)] = new DashboardSessionsState
            {
                Throttle = new SignInThrottleState { Failures = [new SignInFailure(At, "10.0.0.1", "admin")] },
                Revoked = new(StringComparer.Ordinal) { ["s1"] = At.AddDays(1) },
            },
        };
    }

    private sealed class OtherSerializer : IGrainStorageSerializer
    {
        public BinaryData Serialize<T>(T? input) => throw new NotSupportedException();

        public T Deserialize<T>(BinaryData input) => throw new NotSupportedException();
    }
}
