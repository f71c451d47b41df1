using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Grpc.Core;

namespace Federated.Server.Tests.Transport;

/// <summary>Malformed requests and unknown names get precise statuses; none of them stops the server.</summary>
public class RequestValidationTests(ServerFixture fixture) : SharedServerTests(fixture)
{
    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData(".hidden")]
    [InlineData("a/../../etc")]
    public async Task Enrolling_with_an_invalid_client_id_is_refused(string clientId)
    {
        var status = await Updates.Refused(() => Fixture.Coordinator.EnrolAsync(new EnrolRequest { ClientId = clientId }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains("client_id", status.Detail);
    }

    [Fact]
    public async Task Unknown_clients_are_told_to_enrol()
    {
        // A stranger holds no credential: it is unauthenticated, and told how to get one.
        var heartbeat = await Updates.Refused(() => Fixture.Coordinator.HeartbeatAsync(new HeartbeatRequest { ClientId = "stranger" }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, heartbeat.StatusCode);
        Assert.Contains("first Enrol (with a join token) returned", heartbeat.Detail);
        var poll = await Updates.Refused(() => Fixture.Coordinator.PollTaskAsync(new PollTaskRequest { ClientId = "stranger" }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, poll.StatusCode);
    }

    [Fact]
    public async Task Downloads_name_what_is_wrong_with_the_hash()
    {
        await Fixture.Coordinator.EnrolAsync(new EnrolRequest { ClientId = "downloader" });
        var missing = await Updates.Refused(() => ReadAll(new string('a', 64)));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        var malformed = await Updates.Refused(() => ReadAll("../../etc/passwd"));
        Assert.Equal(StatusCode.InvalidArgument, malformed.StatusCode);
        Assert.Contains("not a SHA-256", malformed.Detail);
    }

    [Theory]
    [InlineData("rounds", "builtin:tiny", 0, "q_proj", 8, "", "rounds: must be between 1")]
    [InlineData("model", "gpt-9", 1, "q_proj", 8, "", "base model 'gpt-9' is not known")]
    [InlineData("modules", "builtin:tiny", 1, "qkv", 8, "", "unknown target module 'qkv'")]
    [InlineData("rank", "builtin:tiny", 1, "k_proj", 64, "", "ranks: rank 64 is outside 1..32")]
    [InlineData("data", "builtin:tiny", 1, "q_proj", 8, "/no/such/file.jsonl", "evaluation_dataset: /no/such/file.jsonl is outside the folders the server reads data from")]
    public async Task Invalid_job_specs_are_refused_naming_the_field(string id, string model, int rounds, string module, int rank, string evaluation, string message)
    {
        var spec = new JobSpec { JobId = "invalid-" + id, BaseModel = model, Rounds = rounds, EvaluationDataset = evaluation };
        spec.TargetModules.Add(module);
        spec.Ranks.Add(rank);
        var status = await Updates.Refused(() => Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains(message, status.Detail);
        var lookup = await Updates.Refused(() => Fixture.Operator.GetJobAsync(new GetJobRequest { JobId = spec.JobId }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, lookup.StatusCode);
    }

    [Fact]
    public async Task A_job_that_evaluates_text_on_a_model_without_a_tokenizer_is_refused()
    {
        var spec = new JobSpec { JobId = "invalid-llama2c-text", BaseModel = TestModels.Stories260K, Rounds = 1, EvaluationDataset = "builtin:synthetic?count=4" };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(4);
        var status = await Updates.Refused(() => Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains($"evaluation_dataset: base model '{TestModels.Stories260K}'", status.Detail);
        Assert.Contains("carries no tokenizer", status.Detail);
        Assert.Contains("give the model a tokenizer.json", status.Detail);
    }

    [Theory]
    [InlineData(0, "auto", "hyperparameters.gradient_accumulation_steps: must be between 1 and batch_size (16), got 0")]
    [InlineData(17, "auto", "hyperparameters.gradient_accumulation_steps: must be between 1 and batch_size (16), got 17")]
    [InlineData(2, "fp8", "hyperparameters.precision: precision 'fp8' is not one of auto, f32, bf16, fp16")]
    public async Task Invalid_training_features_are_refused_naming_the_field(int accumulation, string precision, string message)
    {
        var spec = new JobSpec { JobId = $"invalid-training-{accumulation}-{precision}", BaseModel = "builtin:tiny", Rounds = 1 };
        spec.Ranks.Add(4);
        spec.Hyperparameters = new Hyperparameters { BatchSize = 16, GradientAccumulationSteps = accumulation, Precision = precision };
        var status = await Updates.Refused(() => Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains(message, status.Detail);
    }

    [Fact]
    public void Training_features_default_when_absent_and_survive_the_wire()
    {
        var defaults = Federated.Server.Transport.ProtoMapping.ToHyperparameters(new Hyperparameters());
        Assert.Equal(1, defaults.GradientAccumulationSteps);
        Assert.Equal("auto", defaults.Precision);
        Assert.False(defaults.GradientCheckpointing);
        Assert.False(defaults.GroupByLength);
        var chosen = defaults with { GradientAccumulationSteps = 4, Precision = "bf16", GradientCheckpointing = true, GroupByLength = true };
        Assert.Equal(chosen, Federated.Server.Transport.ProtoMapping.ToHyperparameters(Federated.Server.Transport.ProtoMapping.ToProto(chosen)));
        var options = Federated.Server.Jobs.JobConfigValidator.ToTrainingOptions(chosen, 10);
        Assert.Equal(4, options.GradientAccumulationSteps);
        Assert.Equal(Federated.Core.Training.TrainingPrecision.Bf16, options.Precision);
        Assert.True(options.GradientCheckpointing);
        Assert.True(options.GroupByLength);
    }

    [Theory]
    [InlineData("fedit", new[] { 4, 8 }, 0, "aggregation_strategy: fedit averages A and B separately and needs one rank")]
    [InlineData("fedavg", new[] { 4 }, 0, "aggregation_strategy: 'fedavg' is not known; choose one of stacking, fedit, zero-padding, flexlora")]
    [InlineData("stacking", new[] { 4 }, -1, "compaction_rank_budget: must be 0 (exact) or positive")]
    public async Task Invalid_aggregation_settings_are_refused_naming_the_field(string strategy, int[] ranks, int budget, string message)
    {
        var spec = new JobSpec { JobId = "invalid-" + strategy + budget, BaseModel = "builtin:tiny", Rounds = 1, AggregationStrategy = strategy, CompactionRankBudget = budget };
        spec.Ranks.AddRange(ranks);
        var status = await Updates.Refused(() => Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains(message, status.Detail);
    }

    [Theory]
    [InlineData("round-robin", 20, 100, 1.5, 10, "scheduler.policy: 'round-robin' is not known; choose one of fedcompass, synchronous, fedasync, fedbuff")]
    [InlineData("fedcompass", 0, 100, 1.5, 10, "scheduler.min_steps: must be at least 1, got 0")]
    [InlineData("fedcompass", 30, 20, 1.5, 10, "scheduler.max_steps: must be at least min_steps (30), got 20")]
    [InlineData("fedcompass", 20, 100, 0.5, 10, "scheduler.latest_factor: must be a finite number ≥ 1, got 0.5")]
    [InlineData("fedbuff", 20, 100, 1.5, 0, "scheduler.buffer_size: must be between 1 and 100000, got 0")]
    public async Task Invalid_scheduler_settings_are_refused_naming_the_field(string policy, int minSteps, int maxSteps, double latest, int buffer, string message)
    {
        var spec = new JobSpec
        {
            JobId = $"invalid-scheduler-{policy}-{minSteps}-{maxSteps}-{buffer}-{latest}".Replace(",", "."),
            BaseModel = "builtin:tiny",
            Rounds = 1,
            Scheduler = new SchedulerSpec { Policy = policy, MinSteps = minSteps, MaxSteps = maxSteps, LatestFactor = latest, BufferSize = buffer },
        };
        var status = await Updates.Refused(() => Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains(message, status.Detail);
    }

    [Fact]
    public async Task A_job_without_a_scheduler_gets_fedcompass_with_the_published_defaults()
    {
        var spec = new JobSpec { JobId = "default-scheduler", BaseModel = "builtin:tiny", Rounds = 1 };
        var status = await Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
        var s = status.Spec.Scheduler;
        Assert.Equal(("fedcompass", 20, 100, 1.5, 0.9, 0.5, 0.9), (s.Policy, s.MinSteps, s.MaxSteps, s.LatestFactor, s.StalenessAlpha, s.StalenessExponent, s.SpeedMomentum));
    }

    [Fact]
    public async Task Client_weights_must_be_positive()
    {
        var spec = new JobSpec { JobId = "invalid-weights", BaseModel = "builtin:tiny", Rounds = 1 };
        spec.ClientWeights.Add("client-a", -2);
        var status = await Updates.Refused(() => Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec }).ResponseAsync);
        Assert.Contains("client_weights[client-a]: must be positive", status.Detail);
    }

    [Fact]
    public async Task Catch_up_requests_name_what_is_wrong()
    {
        await Fixture.Coordinator.EnrolAsync(new EnrolRequest { ClientId = "lagging" });
        await Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = new JobSpec { JobId = "no-rounds-yet", BaseModel = "builtin:tiny", Rounds = 3, MinClientsPerRound = 1000, Scheduler = new SchedulerSpec { Policy = "synchronous" } } });

        var ahead = await Updates.Refused(() => Fixture.Coordinator.GetCatchUpAsync(new GetCatchUpRequest { ClientId = "lagging", JobId = "no-rounds-yet", Rank = 8, AfterRound = 0, ThroughRound = 2 }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, ahead.StatusCode);
        Assert.Contains("has completed 0 rounds; cannot catch up through round 2", ahead.Detail);
        var backwards = await Updates.Refused(() => Fixture.Coordinator.GetCatchUpAsync(new GetCatchUpRequest { ClientId = "lagging", JobId = "no-rounds-yet", Rank = 8, AfterRound = 2, ThroughRound = 2 }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, backwards.StatusCode);
        var unknown = await Updates.Refused(() => Fixture.Coordinator.GetCatchUpAsync(new GetCatchUpRequest { ClientId = "lagging", JobId = "no-such-job", Rank = 8, AfterRound = 0, ThroughRound = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        var stranger = await Updates.Refused(() => Fixture.Coordinator.GetCatchUpAsync(new GetCatchUpRequest { ClientId = "stranger", JobId = "no-rounds-yet", Rank = 8, AfterRound = 0, ThroughRound = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, stranger.StatusCode);
    }

    [Fact]
    public async Task A_job_id_cannot_be_taken_twice()
    {
        var spec = new JobSpec { JobId = "twice", BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1000, Scheduler = new SchedulerSpec { Policy = "synchronous" } };
        var first = await Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
        Assert.Equal(JobState.Running, first.State);
        Assert.Equal(64, first.Spec.Hyperparameters.MaxSequenceLength); // defaults are filled in and reported
        Assert.Equal(7, first.Spec.TargetModules.Count);
        Assert.Equal("stacking", first.Spec.AggregationStrategy);
        var status = await Updates.Refused(() => Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec }).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, status.StatusCode);
    }

    private async Task ReadAll(string sha256)
    {
        using var call = Fixture.Coordinator.DownloadAdapter(new DownloadAdapterRequest { ClientId = "downloader", Sha256 = sha256 });
        await foreach (var _ in call.ResponseStream.ReadAllAsync())
        {
        }
    }
}
