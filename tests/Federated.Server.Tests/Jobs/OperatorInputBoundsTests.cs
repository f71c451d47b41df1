using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Grpc.Core;

namespace Federated.Server.Tests.Jobs;

/// <summary>
/// A job spec is bounded like client input: counts, steps and sizes have maxima, evaluation data is read only
/// from the configured data roots (never a device), and a refusal never shows what is in a file.
/// </summary>
public class OperatorInputBoundsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private async Task<Status> Refused(JobSpec spec)
    {
        var status = await Updates.Refused(() => fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        var lookup = await Updates.Refused(() => fixture.Operator.GetJobAsync(new GetJobRequest { JobId = spec.JobId }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, lookup.StatusCode);
        return status;
    }

    private static JobSpec Spec(string id, string evaluation = "") => new() { JobId = id, BaseModel = "builtin:tiny", Rounds = 1, EvaluationDataset = evaluation };

    [Fact]
    public async Task A_huge_synthetic_count_is_refused_before_anything_is_generated()
    {
        var status = await Refused(Spec("huge-synthetic", "builtin:synthetic?split=test&count=1000000000"));
        Assert.Contains("evaluation_dataset: dataset reference", status.Detail);
        Assert.Contains("count=1..100000", status.Detail);
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/proc/self/environ")]
    [InlineData("/etc/hostname")]
    public async Task Evaluation_paths_outside_the_data_roots_are_refused_unread(string path)
    {
        var status = await Refused(Spec("outside-" + Path.GetFileName(path), path));
        Assert.StartsWith($"evaluation_dataset: {path} is outside the folders the server reads data from (", status.Detail);
        Assert.Contains(Path.GetFullPath(fixture.Server.DataDirectory), status.Detail);
    }

    [Fact]
    public async Task A_link_under_a_root_to_a_device_is_refused()
    {
        var folder = Path.Combine(fixture.Server.DataDirectory, "linked");
        Directory.CreateDirectory(folder);
        var link = Path.Combine(folder, "zero.jsonl");
        File.CreateSymbolicLink(link, "/dev/zero");
        var status = await Refused(Spec("linked-file", link));
        Assert.StartsWith($"evaluation_dataset: {link} is outside the folders", status.Detail);
        var status2 = await Refused(Spec("linked-folder", folder));
        Assert.StartsWith($"evaluation_dataset: {link} is outside the folders", status2.Detail);
    }

    [Theory]
    [InlineData("secret.jsonl", "s3cr3t-t0ken-value\n")]
    [InlineData("keys.jsonl", "{\"password\":\"hunter2\",\"api_key\":\"k\"}\n")]
    [InlineData("roles.jsonl", "{\"messages\":[{\"role\":\"rootpw-9\",\"content\":\"x\"}]}\n")]
    public async Task A_refused_file_is_named_by_line_without_its_content(string name, string content)
    {
        var file = Path.Combine(fixture.Server.DataDirectory, name);
        File.WriteAllText(file, content);
        var status = await Refused(Spec("content-" + Path.GetFileNameWithoutExtension(name), file));
        Assert.Equal($"evaluation_dataset: {file} line 1: not a valid JSONL record (its content is not shown here; check the file with the client's data loader)", status.Detail);
    }

    [Fact]
    public async Task A_missing_file_under_a_root_is_named()
    {
        var file = Path.Combine(fixture.Server.DataDirectory, "missing.jsonl");
        var status = await Refused(Spec("missing-file", file));
        Assert.Equal($"evaluation_dataset: {file}: no such file or folder", status.Detail);
    }

    [Fact]
    public async Task A_good_file_under_a_root_is_accepted()
    {
        var file = Path.Combine(fixture.Server.DataDirectory, "good.jsonl");
        File.WriteAllLines(file, ["""{"prompt":"1+1=","completion":"2"}""", """{"prompt":"2+2=","completion":"4"}"""]);
        var spec = Spec("good-file", file);
        spec.MinClientsPerRound = 1000;
        var status = await fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
        Assert.Equal(file, status.Spec.EvaluationDataset);
    }

    public static TheoryData<string, Action<JobSpec>, string> Extremes => new()
    {
        { "steps", s => s.LocalSteps = int.MaxValue, "local_steps: must be between 1 and 1000000, got 2147483647" },
        { "batch", s => s.Hyperparameters = new Hyperparameters { BatchSize = int.MaxValue }, "hyperparameters.batch_size: must be between 1 and 65536, got 2147483647" },
        { "warmup", s => s.Hyperparameters = new Hyperparameters { WarmupSteps = int.MaxValue }, "hyperparameters.warmup_steps: must be between 0 and 1000000" },
        { "lr", s => s.Hyperparameters = new Hyperparameters { WeightDecay = double.PositiveInfinity }, "hyperparameters: learning_rate, weight_decay and max_grad_norm must be finite" },
        { "sequence", s => s.Hyperparameters = new Hyperparameters { MaxSequenceLength = int.MaxValue }, "hyperparameters.max_sequence_length: 2147483647 exceeds the base model's" },
        { "timeout", s => s.TaskTimeoutSeconds = int.MaxValue, "task_timeout_seconds: must be between 1 and 604800 seconds" },
        { "budget", s => s.CompactionRankBudget = int.MaxValue, "compaction_rank_budget: must be at most 65536" },
        { "max-steps", s => s.Scheduler = new SchedulerSpec { MaxSteps = int.MaxValue }, "scheduler.max_steps: must be at most 1000000" },
        { "buffer", s => s.Scheduler = new SchedulerSpec { Policy = "fedbuff", BufferSize = int.MaxValue }, "scheduler.buffer_size: must be between 1 and 100000" },
        { "missed", s => s.Scheduler = new SchedulerSpec { MaxMissedDeadlines = int.MaxValue }, "scheduler.max_missed_deadlines: must be between 1 and 1000" },
        { "reference", s => s.EvaluationDataset = new string('a', 5000), "evaluation_dataset: a dataset reference is at most 4096 characters, got 5000" },
    };

    [Theory]
    [MemberData(nameof(Extremes))]
    public async Task Extreme_numbers_are_refused_naming_the_field(string id, Action<JobSpec> mutate, string message)
    {
        var spec = Spec("extreme-" + id);
        mutate(spec);
        var status = await Refused(spec);
        Assert.Contains(message, status.Detail);
    }
}
