using System.Text.Json;
using Federated.Core.Scheduling;
using Federated.Core.Scheduling.Ledger;
using Microsoft.Extensions.Time.Testing;

namespace Federated.Core.Tests.Scheduling;

/// <summary>The task ledger on hand-worked timelines, on a fake clock: ranks, deadlines, expiries, weights, commits.</summary>
public class TaskLedgerTests
{
    private static readonly DateTimeOffset Created = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private sealed record Upload(string Sha256, long Samples);

    private static (TaskLedger<Upload> Ledger, FakeTimeProvider Clock) Ledger(SchedulerOptions policy, LedgerOptions? options = null, LedgerState<Upload>? state = null)
    {
        var clock = new FakeTimeProvider(Created);
        options ??= new LedgerOptions { JobId = "job", Origin = Created, Ranks = [4, 8, 16], TaskTimeout = TimeSpan.FromSeconds(600) };
        return (new TaskLedger<Upload>(options, policy.CreatePolicy(), state ?? new LedgerState<Upload>(), clock, committedVersion: 0), clock);
    }

    private static LedgerTask<Upload> Offer(TaskLedger<Upload> ledger, string client)
    {
        ledger.Ready(client, null);
        var (task, reason) = ledger.OfferFor(client);
        return task ?? throw new InvalidOperationException($"no task for {client}: {reason}");
    }

    private static void Submit(TaskLedger<Upload> ledger, LedgerTask<Upload> task, long samples, string? sha = null)
        => ledger.Submit(task.ClientId, task.WireTaskId, task.WireRound, sha ?? $"sha-{task.WireTaskId}", samples, new UpdateTiming(1, 0), new Upload(sha ?? "", samples));

    [Fact]
    public void A_synchronous_round_assigns_ranks_by_first_request_holds_the_next_round_until_committed_and_weighs_by_samples()
    {
        var (ledger, clock) = Ledger(new SynchronousOptions { ClientsPerRound = 3, MinQuorum = 3, LocalSteps = 10, RoundDeadlineSeconds = 100 });

        // t = 5 s: c, a, b ask in that order and take ranks 4, 8, 16 of the cycling list; alpha = 2 × rank.
        clock.Advance(TimeSpan.FromSeconds(5));
        var c = Offer(ledger, "c");
        var a = Offer(ledger, "a");
        var b = Offer(ledger, "b");
        Assert.Equal([(4, 8.0), (8, 16.0), (16, 32.0)], new[] { c, a, b }.Select(t => (t.Rank, t.Alpha)));
        Assert.Equal(("job.t1.c", 1, 0L, 10), (c.WireTaskId, c.WireRound, c.StartVersion, c.Steps));
        // The round's deadline (its first task at 5 s + 100 s, one tick past so the policy sees it due first) comes
        // before the task timeout (5 s + 600 s).
        Assert.Equal(Created.AddSeconds(105).AddTicks(1), c.Deadline);
        Assert.Equal(Created.AddSeconds(105).AddTicks(1), ledger.NextWake);
        Assert.Equal(3, ledger.TakeEffects().OfType<TaskIssued>().Count());

        // Uploads at 20, 30, 40 s with 100, 300, 600 samples: the round closes on the last one.
        foreach (var (task, samples) in new[] { (c, 100L), (a, 300L), (b, 600L) })
        {
            clock.Advance(TimeSpan.FromSeconds(10));
            Submit(ledger, task, samples);
            if (task == c)
                Assert.Contains("the update of client 'c' is in", ledger.OfferFor("c").Reason);
        }
        Assert.Equal(Created.AddSeconds(35), b.ArrivedAt);
        var round = Assert.IsType<LedgerAggregation<Upload>>(ledger.NextAggregation());
        Assert.Equal(1, round.Version);
        // Inputs in client order, weights the sample shares (Σw = 1).
        Assert.Equal(["a", "b", "c"], round.Contributions.Select(x => x.Task.ClientId));
        Assert.Equal([0.3, 0.6, 0.1], round.Contributions.Select(x => Math.Round(x.Weight, 12)));
        Assert.Equal(1.0, round.TotalWeight, 12);

        // Round 2's tasks start from version 1: held back until version 1 is committed.
        Assert.Null(ledger.OfferFor("a").Task);
        Assert.Contains("starts from global version 1, which is being aggregated", ledger.OfferFor("a").Reason);
        ledger.Committed(1);
        Assert.Null(ledger.NextAggregation());
        var again = ledger.OfferFor("a").Task!;
        Assert.Equal((2, 1L, 8), (again.WireRound, again.StartVersion, again.Rank)); // a keeps its rank
        Assert.Throws<TaskRefusedException>(() => ledger.Find("a", a.WireTaskId, 1)); // aggregated
        Assert.True(ledger.Dirty);
    }

    [Fact]
    public void A_task_past_its_timeout_expires_at_that_instant_and_its_late_upload_is_refused()
    {
        var options = new LedgerOptions { JobId = "job", Origin = Created, Ranks = [8], TaskTimeout = TimeSpan.FromSeconds(60) };
        var (ledger, clock) = Ledger(new FedAsyncOptions { LocalSteps = 5 }, options);
        clock.Advance(TimeSpan.FromSeconds(10));
        var task = Offer(ledger, "a");
        ledger.TakeEffects();
        Assert.Equal(Created.AddSeconds(70), task.Deadline);
        Assert.Equal(Created.AddSeconds(70), ledger.NextWake);

        clock.Advance(TimeSpan.FromSeconds(59.999));
        Assert.False(ledger.ExpireOne());
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(ledger.ExpireOne());
        Assert.False(ledger.ExpireOne());
        var lost = Assert.Single(ledger.TakeEffects().OfType<TaskLost>());
        Assert.Equal((TaskLossKind.TimedOut, "a"), (lost.Kind, lost.ClientId));
        Assert.Null(ledger.NextWake);

        var refusal = Assert.Throws<TaskRefusedException>(() => Submit(ledger, task, 10));
        Assert.Contains($"task {task.WireTaskId} is closed: expired at its deadline", refusal.Message);
        Assert.False(ledger.Policy.State.Clients["a"].Available); // lost until it asks again
        var next = Offer(ledger, "a");
        Assert.Equal((2L, 0L), (next.PolicyTaskId, next.StartVersion));
        Assert.True(ledger.Policy.State.Clients["a"].Available);
        Assert.Contains(new ClientBack("a"), ledger.TakeEffects());
    }

    [Fact]
    public void A_repeated_upload_is_a_duplicate_and_another_for_the_same_task_is_refused()
    {
        var (ledger, clock) = Ledger(new FedBuffOptions { BufferSize = 2, LocalSteps = 5 });
        var task = Offer(ledger, "a");
        clock.Advance(TimeSpan.FromSeconds(3));
        Assert.False(ledger.IsDuplicate("a", task.WireTaskId, task.WireRound, "one"));
        Submit(ledger, task, 10, "one");
        Assert.True(ledger.IsDuplicate("a", task.WireTaskId, task.WireRound, "one"));
        var e = Assert.Throws<TaskRefusedException>(() => ledger.IsDuplicate("a", task.WireTaskId, task.WireRound, "two"));
        Assert.Contains("already has an accepted update (one)", e.Message);
        Assert.Throws<TaskRefusedException>(() => ledger.Find("b", task.WireTaskId, task.WireRound)); // not b's task
        Assert.Throws<TaskRefusedException>(() => ledger.Find("a", task.WireTaskId, task.WireRound + 1)); // wrong round
    }

    [Fact]
    public void Client_weights_replace_sample_counts_in_the_shares_and_fixed_ranks_win()
    {
        var options = new LedgerOptions
        {
            JobId = "job",
            Origin = Created,
            Ranks = [4],
            ClientRanks = new Dictionary<string, int> { ["b"] = 32 },
            TaskTimeout = TimeSpan.FromSeconds(600),
        };
        var weights = new Dictionary<string, double> { ["a"] = 3, ["b"] = 1 };
        var (ledger, _) = Ledger(new SynchronousOptions { ClientsPerRound = 2, MinQuorum = 2, LocalSteps = 1, RoundDeadlineSeconds = 100, ClientWeights = weights }, options);
        var a = Offer(ledger, "a");
        var b = Offer(ledger, "b");
        Assert.Equal((4, 32), (a.Rank, b.Rank));
        Submit(ledger, a, 100);
        Submit(ledger, b, 300);
        var round = ledger.NextAggregation()!;
        Assert.Equal([0.75, 0.25], round.Contributions.Select(x => Math.Round(x.Weight, 12)));
        Assert.Equal([4, 32], ledger.KnownRanks());
    }

    [Fact]
    public void A_removed_client_loses_its_open_task_and_leaves_the_federations_samples()
    {
        var (ledger, clock) = Ledger(new FedAsyncOptions { LocalSteps = 5 });
        var a = Offer(ledger, "a");
        var b = Offer(ledger, "b");
        ledger.TakeEffects();
        clock.Advance(TimeSpan.FromSeconds(10));
        ledger.ClientRemoved("b");
        var lost = Assert.Single(ledger.TakeEffects().OfType<TaskLost>());
        Assert.Equal((b.WireTaskId, TaskLossKind.Withdrawn, "withdrawn: the client was removed by an operator"), (lost.WireTaskId, lost.Kind, lost.Reason));
        Assert.Equal(LedgerTaskStatus.Withdrawn, b.Status);
        Assert.True(ledger.Dirty);

        // a alone is the federation: N = 100, weight 0.9·1·100/100 = 0.9 (with b counted it would be 0.45).
        Submit(ledger, a, 100);
        Assert.Equal(0.9, Assert.Single(ledger.NextAggregation()!.Contributions).Weight, 12);
        ledger.ClientRemoved("never-asked"); // ignored
        Assert.Empty(ledger.TakeEffects().OfType<TaskLost>());
    }

    [Fact]
    public void A_task_given_back_frees_its_place_for_a_waiting_client()
    {
        var (ledger, clock) = Ledger(new SynchronousOptions { ClientsPerRound = 1, MinQuorum = 1, LocalSteps = 1, RoundDeadlineSeconds = 100 });
        var a = Offer(ledger, "a");
        ledger.Ready("b", null);
        Assert.Contains("round 1 has its 1 clients", ledger.OfferFor("b").Reason);
        ledger.TakeEffects();
        clock.Advance(TimeSpan.FromSeconds(1));
        ledger.Abandon("a", a.WireTaskId, a.WireRound, "wrong base model");
        var effects = ledger.TakeEffects();
        var lost = Assert.Single(effects.OfType<TaskLost>());
        Assert.Equal((TaskLossKind.GivenBack, "given back: wrong base model"), (lost.Kind, lost.Reason));
        Assert.Equal("b", Assert.Single(effects.OfType<TaskIssued>()).ClientId);
        Assert.NotNull(ledger.OfferFor("b").Task);
    }

    [Fact]
    public void A_ledger_restored_from_its_saved_state_continues_where_it_stopped()
    {
        var options = new LedgerOptions { JobId = "job", Origin = Created, Ranks = [4, 8], TaskTimeout = TimeSpan.FromSeconds(60) };
        var policyOptions = new FedAsyncOptions { LocalSteps = 5 };
        var (ledger, clock) = Ledger(policyOptions, options);
        var a = Offer(ledger, "a");
        var b = Offer(ledger, "b");
        clock.Advance(TimeSpan.FromSeconds(10));
        Submit(ledger, a, 50);
        ledger.Committed(ledger.NextAggregation()!.Version);

        var savedLedger = JsonSerializer.Serialize(ledger.State);
        var savedPolicy = JsonSerializer.Serialize(ledger.Policy.State);
        var restored = new TaskLedger<Upload>(options, policyOptions.CreatePolicy(JsonSerializer.Deserialize<SchedulingState>(savedPolicy)),
            JsonSerializer.Deserialize<LedgerState<Upload>>(savedLedger)!, clock, committedVersion: 1);

        // b's task still times out at 60 s, and a keeps rank 4 while a newcomer gets the next rank in turn.
        Assert.Equal(Created.AddSeconds(60), restored.NextTaskTimeout);
        Assert.Equal(4, restored.OfferFor("a").Task!.Rank);
        Assert.Equal(4, Offer(restored, "c").Rank);
        clock.Advance(TimeSpan.FromSeconds(50));
        Assert.True(restored.ExpireOne());
        Assert.Equal(b.WireTaskId, Assert.Single(restored.TakeEffects().OfType<TaskLost>()).WireTaskId);
        Assert.Contains("\"TaskId\":\"job.t1.a\"", savedLedger); // the wire id keeps its persisted name
    }

    [Fact]
    public void Sample_counts_whose_sum_overflows_a_long_still_give_finite_shares()
    {
        // Issue 12, defect 1: two uploads of long.MaxValue samples each overflowed the policy's sum (OverflowException
        // on every later tick). The door now bounds num_samples; the sum itself is in floating point.
        var (ledger, _) = Ledger(new SynchronousOptions { ClientsPerRound = 2, MinQuorum = 2, LocalSteps = 1, RoundDeadlineSeconds = 100 });
        var a = Offer(ledger, "a");
        var b = Offer(ledger, "b");
        Submit(ledger, a, long.MaxValue);
        Submit(ledger, b, long.MaxValue);
        var round = ledger.NextAggregation()!;
        Assert.All(round.Contributions, c => Assert.Equal(0.5, c.Weight, 12));
    }
}
