using Federated.Contracts.Clients;
using Federated.Core.Scheduling;
using Federated.Core.Scheduling.Simulation;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;

namespace Federated.Server.Tests.Compare;

/// <summary>
/// The simulator and the server run one task ledger: the same arrivals, replayed against a real server on a fake
/// clock, give the same tasks (client, rank, steps, start version), the same expiries and the same aggregations as
/// the virtual-time engine that `federated compare` uses.
/// </summary>
public class LedgerParityTests(FakeClockServerFixture fixture) : IClassFixture<FakeClockServerFixture>
{
    private const int Clients = 3;
    private const double TimeoutSeconds = 10;

    /// <summary>Client 0 takes 0.5 s a step, client 1 1 s, client 2 5 s: its tasks outlast the 10 s timeout under fedasync.</summary>
    private static readonly TraceSpeed Speeds = new([[0.5], [1.0], [5.0]]);

    private sealed class HundredSamples : ISimulatedTraining
    {
        public long Train(SimulatedTask task) => 100; // what the test uploads declare

        public void Aggregate(AggregationOrder order)
        {
        }
    }

    [Theory]
    [InlineData("fedasync", 20)]
    [InlineData("fedcompass", 6)]
    [InlineData("synchronous", 3)]
    public async Task The_same_arrivals_give_the_same_tasks_expiries_and_aggregations_in_the_simulator_and_the_server(string policy, int rounds)
    {
        var options = PolicyOptions(policy);
        var simulated = new VirtualTimeEngine(new SimulationOptions
        {
            Clients = Clients,
            Speeds = Speeds,
            Ranks = [4, 8, 16],
            TaskTimeoutSeconds = TimeoutSeconds,
            MaxAggregations = rounds,
        }, new HundredSamples()).Run(options.CreatePolicy());
        Assert.Equal(rounds, simulated.Aggregations.Count);
        if (policy == "fedasync")
            Assert.Contains(simulated.Tasks, t => t.Outcome == TaskOutcome.Expired); // the slow client's tasks time out

        var jobId = $"parity-{policy}";
        await fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = Spec(jobId, policy, rounds) });
        var started = fixture.Clock.GetUtcNow();
        var served = new Dictionary<long, TrainingTask>();
        foreach (var e in Events(simulated))
        {
            var due = started.AddTicks((long)Math.Round(e.Time * TimeSpan.TicksPerSecond)) - fixture.Clock.GetUtcNow();
            var name = $"{policy}-{e.Task?.ClientId}"; // each case's own clients: the fixture's server outlives a case
            switch (e.Kind)
            {
                case EventKind.Tick:
                    await fixture.AdvanceAsync(due > TimeSpan.Zero ? due : TimeSpan.Zero, jobId); // what fell due, as the grain's timer would
                    break;
                case EventKind.Poll:
                    var reply = await fixture.Coordinator.EnrolAndPoll(name, 0);
                    Assert.True(reply.OutcomeCase == PollTaskReply.OutcomeOneofCase.Task, $"t = {e.Time}: the server has no task for {name} where the simulator started task {e.Task!.TaskId}: {reply.NoTask?.Reason}");
                    served[e.Task!.TaskId] = reply.Task;
                    Assert.Equal(
                        (e.Task.Rank, e.Task.Steps, (int)e.Task.StartVersion + 1),
                        (reply.Task.Lora.Rank, reply.Task.LocalSteps, reply.Task.Round));
                    break;
                case EventKind.Upload:
                    var upload = () => fixture.Coordinator.UploadRandomUpdate(served[e.Task!.TaskId], name, secondsPerStep: Speeds.PerClient[Index(name)][0]);
                    if (e.Task!.Outcome == TaskOutcome.Rejected)
                        await Updates.Refused(upload);
                    else
                        await upload();
                    break;
            }
        }

        var final = await fixture.Operator.GetJobAsync(new GetJobRequest { JobId = jobId });
        Assert.Equal(JobState.Completed, final.State);
        Assert.Equal(rounds, final.Rounds.Count);
        for (var v = 1; v <= rounds; v++)
        {
            var applied = simulated.Tasks.Where(t => t.AppliedVersion == v).Select(t => ($"{policy}-{t.ClientId}", Math.Round(t.Weight!.Value, 9))).Order().ToList();
            var committed = final.Rounds[v - 1].Participants.Select(p => (p.ClientId, Math.Round(p.Weight, 9))).Order().ToList();
            Assert.Equal(applied, committed);
        }
        for (var i = 0; i < Clients; i++)
        {
            var name = $"client-{i:D5}";
            var expired = simulated.Tasks.Count(t => t.ClientId == name && t.Outcome is TaskOutcome.Expired or TaskOutcome.Cancelled);
            Assert.Equal(expired, (await fixture.Grains.GetGrain<IClientGrain>($"{policy}-{name}").GetSnapshot()).TasksExpired);
        }
    }

    private static SchedulerOptions PolicyOptions(string policy) => policy switch
    {
        "fedasync" => new FedAsyncOptions { LocalSteps = 3 },
        "fedcompass" => new FedCompassOptions { MinSteps = 1, MaxSteps = 4 },
        _ => new SynchronousOptions { ClientsPerRound = Clients, MinQuorum = 2, LocalSteps = 3, RoundDeadlineSeconds = TimeoutSeconds },
    };

    private static JobSpec Spec(string jobId, string policy, int rounds)
    {
        var spec = new JobSpec
        {
            JobId = jobId,
            BaseModel = "builtin:tiny",
            Rounds = rounds,
            LocalSteps = 3,
            ClientsPerRound = Clients,
            MinClientsPerRound = 2,
            TaskTimeoutSeconds = (int)TimeoutSeconds,
            Scheduler = new SchedulerSpec { Policy = policy, MinSteps = 1, MaxSteps = 4 },
        };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add([4, 8, 16]);
        return spec;
    }

    private enum EventKind
    {
        Tick,
        Upload,
        Poll,
    }

    private sealed record Event(double Time, EventKind Kind, TaskRecord? Task);

    /// <summary>
    /// The simulator's arrivals as clients and a clock make them: at every instant where something happened, first
    /// the scheduler's tick (deadlines, timeouts), then uploads, then requests for work.
    /// </summary>
    private static IEnumerable<Event> Events(SimulationResult result)
    {
        var events = new List<Event>();
        foreach (var task in result.Tasks.Where(t => t.StartVersion < result.Aggregations.Count)) // none from the final version: the job has ended
        {
            events.Add(new Event(task.Start, EventKind.Poll, task));
            if (task.End is { } end && task.Outcome is TaskOutcome.Applied or TaskOutcome.Pending or TaskOutcome.Rejected)
                events.Add(new Event(end, EventKind.Upload, task));
        }
        var instants = events.Select(e => e.Time).Concat(result.Aggregations.Select(a => a.Time)).Distinct().ToList();
        events.AddRange(instants.Select(t => new Event(t, EventKind.Tick, null)));
        return events.OrderBy(e => e.Time).ThenBy(e => e.Kind).ThenBy(e => e.Task?.TaskId);
    }

    private static int Index(string clientId) => int.Parse(clientId[(clientId.LastIndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
}
