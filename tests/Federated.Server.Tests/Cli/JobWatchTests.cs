using System.Threading.Channels;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.Commands;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Cli;

/// <summary>`federated job watch` follows a job across a restart of the server under it.</summary>
public class JobWatchTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_watch_reconnects_with_backoff_when_the_server_restarts_and_sees_the_job_end()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var serverData = folder["server"];
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var first = await LocalServer.StartAsync(serverData, logger, cancellationToken: timeout.Token);
        var (grpcPort, httpPort, siloPort) = (first.GrpcPort, first.HttpPort, first.SiloPort);
        TrainingTask task;
        using (var setup = GrpcChannel.ForAddress(first.GrpcAddress))
        {
            await new Operator.OperatorClient(setup).CreateJobAsync(new CreateJobRequest { Spec = Spec() }, cancellationToken: timeout.Token);
            task = await TestClients.Coordinator(setup).EnrolAndTakeTask("only");
        }

        // The watch's own channel, as the command makes one: it outlives both servers.
        using var channel = GrpcChannel.ForAddress(first.GrpcAddress);
        var clock = new FakeTimeProvider();
        var statuses = Channel.CreateUnbounded<JobStatus>();
        var waits = Channel.CreateUnbounded<TimeSpan>();
        var watch = new JobWatch(new Operator.OperatorClient(channel), "watched", clock)
        {
            OnStatus = s => statuses.Writer.TryWrite(s),
            OnReconnecting = (_, wait) => waits.Writer.TryWrite(wait),
        };
        var watching = watch.RunAsync(timeout.Token);
        Assert.Equal(0, (await statuses.Reader.ReadAsync(timeout.Token)).CompletedRounds);

        await first.DisposeAsync(); // the server goes away under the open stream
        var firstWait = await waits.Reader.ReadAsync(timeout.Token);
        Assert.Equal(JobWatch.FirstBackoff, firstWait);
        Assert.False(watching.IsCompleted); // it waits to reconnect instead of exiting

        await using var second = await LocalServer.StartAsync(serverData, logger, grpcPort, httpPort, siloPort, cancellationToken: timeout.Token);
        // Each wait ends only when the fake clock passes it; a failed attempt doubles the next one.
        var wait = firstWait;
        var reconnected = statuses.Reader.ReadAsync(timeout.Token).AsTask();
        while (true)
        {
            clock.Advance(wait);
            var next = waits.Reader.ReadAsync(timeout.Token).AsTask();
            if (await Task.WhenAny(reconnected, next) == reconnected)
                break;
            var longer = await next;
            Assert.Equal(TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, JobWatch.MaxBackoff.Ticks)), longer);
            wait = longer;
        }
        Assert.Equal(JobState.Running, (await reconnected).State);

        // The job ends on the second server; the same watch sees it and returns.
        using (var clientChannel = GrpcChannel.ForAddress(second.GrpcAddress))
            Assert.False((await TestClients.Coordinator(clientChannel).UploadRandomUpdate(task, "only")).Duplicate);
        var final = await watching.WaitAsync(timeout.Token);
        Assert.Equal(JobState.Completed, final.State);
        Assert.Equal(1, final.CompletedRounds);
    }

    [Fact]
    public async Task A_refusal_ends_the_watch_instead_of_retrying()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var watch = new JobWatch(new Operator.OperatorClient(channel), "no-such-job", new FakeTimeProvider());
        var error = await Assert.ThrowsAsync<RpcException>(() => watch.RunAsync(CancellationToken.None));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    private static JobSpec Spec()
    {
        var spec = new JobSpec { JobId = "watched", BaseModel = "builtin:tiny", Rounds = 1, LocalSteps = 1, Scheduler = new SchedulerSpec { Policy = "fedasync" } };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        return spec;
    }
}
