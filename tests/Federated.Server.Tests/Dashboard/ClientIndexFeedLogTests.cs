using Federated.Contracts.Clients;
using Federated.Server.Clients;

namespace Federated.Server.Tests.Dashboard;

/// <summary>A feed partition's log: pulls in pages get each entry's latest change once, and job replacements clear what they no longer say.</summary>
public class ClientIndexFeedLogTests
{
    private static readonly Guid Epoch = Guid.NewGuid();
    private static readonly DateTimeOffset Start = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Pages_after_a_version_hold_each_entrys_latest_change_once_oldest_first()
    {
        var log = new ClientIndexFeedLog(Epoch);
        for (var i = 0; i < 5; i++)
            log.Take(Snapshot($"c{i}", Start), seed: false);
        var first = log.ChangesSince(Guid.Empty, 0, max: 2); // an unknown epoch: everything
        Assert.Equal(["c0", "c1"], first.Changes.Select(c => c.ClientId));
        Assert.True(first.More);

        log.Take(Snapshot("c0", Start.AddSeconds(1)), seed: false); // moves past the others
        var pulled = new List<ClientIndexChange>(first.Changes);
        var page = first;
        while (page.More)
        {
            page = log.ChangesSince(page.Epoch, page.Version, max: 2);
            pulled.AddRange(page.Changes);
        }
        Assert.Equal(["c0", "c1", "c2", "c3", "c4", "c0"], pulled.Select(c => c.ClientId));
        Assert.Equal(Start.AddSeconds(1), pulled[^1].Client!.LastSeen);
        Assert.Equal(pulled.Select(c => c.Version).Order(), pulled.Select(c => c.Version));

        var none = log.ChangesSince(Epoch, page.Version, max: 2);
        Assert.Empty(none.Changes);
        Assert.False(none.More);
        Assert.Equal(page.Version, none.Version);
        Assert.Equal(5, log.ChangesSince(Guid.NewGuid(), page.Version, max: 100).Changes.Length); // another epoch: every entry afresh
    }

    [Fact]
    public void A_seed_never_replaces_a_pushed_snapshot_and_an_older_assignment_never_a_newer_one()
    {
        var log = new ClientIndexFeedLog(Epoch);
        log.Take(Snapshot("c", Start.AddSeconds(5)), seed: false);
        log.Take(Snapshot("c", Start), seed: true);
        log.Take(Assignment("c", "job", Start.AddSeconds(2)), seed: false);
        log.Take(Assignment("c", "old", Start), seed: false);

        var all = log.ChangesSince(Epoch, 0, 100).Changes;
        Assert.Equal(Start.AddSeconds(5), all.Single(c => c.Kind == ClientIndexChangeKind.Client).Client!.LastSeen);
        Assert.Equal("job", all.Single(c => c.Kind == ClientIndexChangeKind.Assignment).Assignment!.JobId);
    }

    [Fact]
    public void A_cleared_job_state_is_handed_out_only_if_it_was_set_and_a_replacement_clears_what_it_leaves_out()
    {
        var log = new ClientIndexFeedLog(Epoch);
        log.Take(JobState("job", "never", null), seed: false);
        Assert.Equal(0, log.Count);

        log.Take(JobState("job", "a", ClientJobState.Working), seed: false);
        log.Take(JobState("job", "b", ClientJobState.Unavailable), seed: false);
        log.Take(JobState("other", "a", ClientJobState.Working), seed: false);
        var before = log.ChangesSince(Epoch, 0, 100).Version;

        log.Take(new ClientIndexChange(ClientIndexChangeKind.JobReplaced, "", "job", States: new() { ["c"] = ClientJobState.Working }), seed: false);
        var after = log.ChangesSince(Epoch, before, 100).Changes;
        Assert.Equal([("a", (ClientJobState?)null), ("b", null), ("c", ClientJobState.Working)], after.Select(c => (c.ClientId, c.JobState)).OrderBy(c => c.ClientId));
        Assert.All(after, c => Assert.Equal("job", c.JobId)); // the other job's state stays as it was
    }

    [Fact]
    public void An_index_reading_a_reactivated_partition_afresh_forgets_only_that_partitions_job_states()
    {
        var index = new ClientIndex(Microsoft.Extensions.Options.Options.Create(new Federated.Server.Hosting.ServerOptions()));
        var ids = Enumerable.Range(0, 64).Select(i => $"client-{i}").ToArray();
        var partition = ClientIndexPartitions.Of(ids[0]);
        var inIt = ids.Where(id => ClientIndexPartitions.Of(id) == partition).ToArray();
        var elsewhere = ids.Except(inIt).ToArray();
        Assert.NotEmpty(elsewhere);
        index.ApplyFeed(partition, [.. ids.Select(id => Snapshot(id, Start)), .. ids.Select(id => JobState("job", id, ClientJobState.Working))], afresh: true);
        var jobs = new[] { new JobSnapshotStatus("job", Settled: false) };
        Assert.Equal(ids.Length, index.CountsPerJob(index.Sorted(), jobs, Start)["job"].Active);

        var version = index.Version;
        index.ApplyFeed(partition, [JobState("job", inIt[0], ClientJobState.Unavailable)], afresh: true);
        Assert.True(index.Version > version);
        var counts = index.CountsPerJob(index.Sorted(), jobs, Start)["job"];
        Assert.Equal(new ClientCounts(ids.Length, elsewhere.Length, inIt.Length - 1, 1), counts);
        Assert.Equal(ids.Length, index.Count); // clients stay: only what the jobs said of them is the partition's to replace
    }

    [Fact]
    public void A_page_of_no_changes_is_refused()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new ClientIndexFeedLog(Epoch).ChangesSince(Epoch, 0, max: 0));

    private static ClientIndexChange Snapshot(string id, DateTimeOffset lastSeen) => new(ClientIndexChangeKind.Client, id, Client: new ClientSnapshot
    {
        ClientId = id,
        Profile = new ClientProfile { Device = "cpu", CpuCores = 4 },
        EnrolledAt = Start,
        LastSeen = lastSeen,
    });

    private static ClientIndexChange Assignment(string id, string jobId, DateTimeOffset issued)
        => new(ClientIndexChangeKind.Assignment, id, Assignment: new ClientAssignment(jobId, 2, 1, issued));

    private static ClientIndexChange JobState(string jobId, string id, ClientJobState? state) => new(ClientIndexChangeKind.JobState, id, jobId, JobState: state);
}
