using Federated.Core.Adapters;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Grpc.Core;

namespace Federated.Server.Tests.Transport;

/// <summary>
/// Numbers and strings from a client are checked for range and finiteness where they enter: a value out of
/// bounds is refused naming the field, nothing of the request is kept, and the server goes on serving.
/// </summary>
public class ClientInputBoundsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-0.5)]
    [InlineData(1.5)]
    public async Task A_heartbeat_with_progress_out_of_bounds_is_refused(double progress)
    {
        await fixture.Coordinator.EnrolAsync(new EnrolRequest { ClientId = "beating" });
        var status = await Updates.Refused(() => fixture.Coordinator.HeartbeatAsync(new HeartbeatRequest { ClientId = "beating", Activity = ClientActivity.Training, Progress = progress }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.StartsWith("progress: must be", status.Detail);
        await fixture.Coordinator.HeartbeatAsync(new HeartbeatRequest { ClientId = "beating", Activity = ClientActivity.Training, Progress = 0.5 });
    }

    public static TheoryData<string, DeviceProfile, string> BadDevices => new()
    {
        { "gflops-nan", new DeviceProfile { MeasuredGflops = double.NaN }, "device.measured_gflops: must be a finite number, got NaN" },
        { "gflops-inf", new DeviceProfile { MeasuredGflops = double.PositiveInfinity }, "device.measured_gflops: must be a finite number" },
        { "gflops-neg", new DeviceProfile { MeasuredGflops = -1 }, "device.measured_gflops: must be between 0 and" },
        { "gflops-huge", new DeviceProfile { MeasuredGflops = 1e300 }, "device.measured_gflops: must be between 0 and" },
        { "cores-neg", new DeviceProfile { CpuCores = -4 }, "device.cpu_cores: must be between 0 and 65536, got -4" },
        { "memory-neg", new DeviceProfile { MemoryBytes = -1 }, "device.memory_bytes: must be between 0 and" },
        { "accel-huge", new DeviceProfile { AcceleratorMemoryBytes = long.MaxValue }, "device.accelerator_memory_bytes: must be between 0 and" },
        { "accel-name", new DeviceProfile { AcceleratorName = "H200\n[00:00:00 ERR] forged" }, "device.accelerator_name: 'H200?[00:00:00 ERR] forged' holds control characters" },
    };

    [Theory]
    [MemberData(nameof(BadDevices))]
    public async Task An_enrolment_with_a_device_out_of_bounds_is_refused_and_enrols_nothing(string id, DeviceProfile device, string message)
    {
        var clientId = "bad-device-" + id;
        var status = await Updates.Refused(() => fixture.Coordinator.EnrolAsync(new EnrolRequest { ClientId = clientId, Device = device }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains(message, status.Detail);
        var heartbeat = await Updates.Refused(() => fixture.Coordinator.HeartbeatAsync(new HeartbeatRequest { ClientId = clientId }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, heartbeat.StatusCode); // no credential was issued
    }

    [Fact]
    public async Task Labels_are_bounded_in_number_and_length()
    {
        var request = new EnrolRequest { ClientId = "many-labels" };
        for (int i = 0; i < 65; i++)
            request.Labels.Add($"k{i}", "v");
        var status = await Updates.Refused(() => fixture.Coordinator.EnrolAsync(request).ResponseAsync);
        Assert.Equal("labels: at most 64 labels, got 65", status.Detail);
        request = new EnrolRequest { ClientId = "long-label" };
        request.Labels.Add("site", new string('x', 100_000));
        status = await Updates.Refused(() => fixture.Coordinator.EnrolAsync(request).ResponseAsync);
        Assert.Equal("labels[site]: at most 256 characters, got 100000", status.Detail);
    }

    [Fact]
    public async Task Error_details_quote_only_a_short_prefix_of_a_huge_input()
    {
        var huge = new string('x', 100_000);
        var status = await Updates.Refused(() => fixture.Coordinator.EnrolAsync(new EnrolRequest { ClientId = huge }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains("client_id 'xxxx", status.Detail);
        Assert.Contains("(100000 characters)", status.Detail);
        Assert.True(status.Detail.Length < 300, $"detail of {status.Detail.Length} characters");
    }

    public static TheoryData<string, Action<UpdateHeader>, string> BadHeaders => new()
    {
        { "alpha-nan", h => h.Alpha = double.NaN, "alpha: must be a positive finite number, got NaN" },
        { "alpha-inf", h => h.Alpha = double.PositiveInfinity, "alpha: must be a positive finite number" },
        { "samples-max", h => h.NumSamples = long.MaxValue, "num_samples: must be between 1 and 1000000000 (it weights the update), got 9223372036854775807" },
        { "samples-zero", h => h.NumSamples = 0, "num_samples: must be between 1 and 1000000000" },
        { "loss-nan", h => h.Stats.FinalLoss = double.NaN, "stats.final_loss: must be a finite number, got NaN" },
        { "speed-inf", h => h.Stats.SecondsPerStep = double.PositiveInfinity, "stats.seconds_per_step: must be a finite number" },
        { "speed-neg", h => h.Stats.SecondsPerStep = -1, "stats.seconds_per_step: must be between 0 and" },
        { "tokens-neg", h => h.Stats.Tokens = -1, "stats.tokens: must be between 0 and" },
        { "task-id", h => h.TaskId = new string('t', 10_000), "task_id: 'tttt" },
    };

    [Fact]
    public async Task Update_headers_out_of_bounds_are_refused_and_the_good_update_is_then_accepted()
    {
        var spec = new JobSpec { JobId = "bounded-headers", BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 2, LocalSteps = 5, Scheduler = new SchedulerSpec { Policy = "synchronous" } };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(4);
        await fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
        var task = await fixture.Coordinator.EnrolAndTakeTask("header-sender");
        var payload = AdapterSerializer.ToBytes(Updates.For(task, seed: 9));

        foreach (var (id, mutate, message) in BadHeaders.Select(row => ((string)row[0], (Action<UpdateHeader>)row[1], (string)row[2])))
        {
            var header = Updates.Header(task, "header-sender", payload.Length);
            mutate(header);
            var status = await Updates.Refused(() => Updates.Upload(fixture.Coordinator, header, payload));
            Assert.True(status.StatusCode == StatusCode.InvalidArgument, $"{id}: {status}");
            Assert.True(status.Detail.Contains(message, StringComparison.Ordinal), $"{id}: {status.Detail}");
            Assert.True(status.Detail.Length < 300, $"{id}: detail of {status.Detail.Length} characters");
        }

        var accepted = await Updates.Upload(fixture.Coordinator, Updates.Header(task, "header-sender", payload.Length), payload);
        Assert.False(accepted.Duplicate);
    }

    [Fact]
    public void The_sample_limit_comes_from_the_server_options()
    {
        Assert.Equal(1_000_000_000, new Federated.Server.Hosting.ServerOptions().MaxSamplesPerUpdate);
    }

    [Fact]
    public async Task Metrics_reports_check_job_round_task_and_names_before_anything_is_logged()
    {
        var spec = new JobSpec { JobId = "metrics-job", BaseModel = "builtin:tiny", Rounds = 2, MinClientsPerRound = 1000, Scheduler = new SchedulerSpec { Policy = "synchronous" } };
        await fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
        await fixture.Coordinator.EnrolAsync(new EnrolRequest { ClientId = "reporter" });
        ReportMetricsRequest Report(string job = "metrics-job", int round = 1, string task = "metrics-job.t1.reporter")
        {
            var request = new ReportMetricsRequest { ClientId = "reporter", JobId = job, Round = round, TaskId = task };
            request.Metrics.Add("train_loss_final", 1.25);
            return request;
        }

        await fixture.Coordinator.ReportMetricsAsync(Report());

        var status = await Updates.Refused(() => fixture.Coordinator.ReportMetricsAsync(Report(job: "no-such-job")).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, status.StatusCode);
        status = await Updates.Refused(() => fixture.Coordinator.ReportMetricsAsync(Report(round: 3)).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains("round: job 'metrics-job' has rounds 1 to 2, got 3", status.Detail);
        status = await Updates.Refused(() => fixture.Coordinator.ReportMetricsAsync(Report(task: "")).ResponseAsync);
        Assert.Equal("task_id: is required", status.Detail);
        status = await Updates.Refused(() => fixture.Coordinator.ReportMetricsAsync(Report(task: "metrics-job.t1.someone-else")).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, status.StatusCode);
        Assert.Equal("task 'metrics-job.t1.someone-else' is not a task of client 'reporter'", status.Detail);
        foreach (var foreign in new[] { "other-job.t1.reporter", "metrics-job.tx.reporter", "metrics-job.t.reporter" })
        {
            status = await Updates.Refused(() => fixture.Coordinator.ReportMetricsAsync(Report(task: foreign)).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
            Assert.Equal($"task_id: '{foreign}' is not a task of job 'metrics-job' for client 'reporter'", status.Detail);
        }

        var forged = Report();
        forged.Metrics.Add("x\n[00:00:00 ERR] the server is on fire", 1);
        status = await Updates.Refused(() => fixture.Coordinator.ReportMetricsAsync(forged).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Contains("metrics: name 'x?[00:00:00 ERR] the server is on fire' is not valid", status.Detail);

        var flood = Report();
        for (int i = 0; i < 20_000; i++)
            flood.Metrics.Add($"m{i}", i);
        status = await Updates.Refused(() => fixture.Coordinator.ReportMetricsAsync(flood).ResponseAsync);
        Assert.Equal("metrics: at most 64 metrics in one report, got 20001", status.Detail);

        var infinite = Report();
        infinite.Metrics["train_loss_final"] = double.NegativeInfinity;
        status = await Updates.Refused(() => fixture.Coordinator.ReportMetricsAsync(infinite).ResponseAsync);
        Assert.StartsWith("metrics[train_loss_final]: must be a finite number, got ", status.Detail);
    }
}
