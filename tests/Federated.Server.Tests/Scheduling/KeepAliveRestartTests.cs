using Federated.Protos.V1;
using Federated.Server.Clients;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Scheduling;

/// <summary>
/// Local mode's reminders are in memory, so a restart loses them: the restarted server wakes every active job's
/// scheduler itself, which acts on a deadline that passed while it was down with no client calling (on a fake clock).
/// </summary>
public class KeepAliveRestartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task After_a_restart_a_deadline_that_passed_meanwhile_is_acted_on_without_a_client_call()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var data = folder["server"];
        await using (var server = await LocalServer.StartAsync(data, logger, time: clock))
        {
            using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
            var spec = new JobSpec { JobId = "restarted", BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1, ClientsPerRound = 1, LocalSteps = 1, TaskTimeoutSeconds = 30, Scheduler = new SchedulerSpec { Policy = "synchronous" } };
            spec.TargetModules.Add("q_proj");
            spec.Ranks.Add(2);
            await new Operator.OperatorClient(channel).CreateJobAsync(new CreateJobRequest { Spec = spec });
            var poll = await TestClients.Coordinator(channel).EnrolAndPoll("gone", 5);
            Assert.Equal("restarted", poll.Task?.JobId);
        }

        clock.Advance(TimeSpan.FromSeconds(31)); // the task's deadline passes while the server is down
        await using (var server = await LocalServer.StartAsync(data, logger, time: clock))
        {
            var index = server.App.Services.GetRequiredService<ClientIndex>();
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await index.UntilAsync(() => Task.FromResult(index.TryGet("gone", out var client) && client.TasksExpired == 1), TimeSpan.FromMilliseconds(50), limit.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail("the restarted server did not expire the task within 20 s");
            }
        }
    }
}
