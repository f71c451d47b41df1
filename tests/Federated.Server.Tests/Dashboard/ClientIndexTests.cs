using System.Text.Json;
using Federated.Contracts.Clients;
using Federated.Protos.V1;
using Federated.Server.Clients;
using Federated.Server.Dashboard;
using Federated.Server.Hosting;
using Federated.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Federated.Server.Tests.Dashboard;

/// <summary>
/// The dashboard's client index: its counts (server-wide and per job) from constructed snapshots, and what the
/// client grains and schedulers push to it in a real server.
/// </summary>
public class ClientIndexTests(ServerFixture fixture) : SharedServerTests(fixture)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Counts_put_each_client_in_one_of_active_idle_unavailable_per_job_and_server_wide()
    {
        var index = new ClientIndex(Options.Create(new ServerOptions())); // live: seen within 3·10 + 20 s
        index.Upsert(Client("training-a", ClientActivityKind.Training));
        index.Upsert(Client("training-b", ClientActivityKind.Training));
        index.Upsert(Client("idle"));
        index.Upsert(Client("paused", admission: ClientAdmission.Paused));
        index.Upsert(Client("draining", ClientActivityKind.Training, admission: ClientAdmission.Draining));
        index.Upsert(Client("removed", admission: ClientAdmission.Removed));
        index.Upsert(Client("silent", lastSeen: Now.AddSeconds(-51)));
        index.Upsert(Client("dropped"));
        index.SetJobState("job-a", "training-a", ClientJobState.Working);
        index.SetJobState("job-a", "draining", ClientJobState.Working); // its last task may still finish
        index.SetJobState("job-a", "dropped", ClientJobState.Unavailable);
        index.SetJobState("job-a", "silent", ClientJobState.Working); // not heard from: not active
        index.SetJobState("job-b", "training-b", ClientJobState.Working);
        index.SetJobState("done", "training-a", ClientJobState.Working);

        var clients = index.Sorted();
        Assert.Equal(["draining", "dropped", "idle", "paused", "removed", "silent", "training-a", "training-b"], clients.Select(c => c.ClientId));
        JobSnapshotStatus[] jobs = [new("job-a", false), new("job-b", false), new("done", true), new("unknown", false)];
        // Server-wide: active reports work or holds a task (the training ones, draining); paused, removed and silent are unavailable.
        Assert.Equal(new ClientCounts(8, 3, 2, 3), index.Counts(clients, jobs, Now));
        // Holding a task counts even before the client's heartbeat says it trains; not for a settled job.
        index.Upsert(Client("idle"));
        index.SetJobState("job-b", "idle", ClientJobState.Working);
        index.SetJobState("done", "dropped", ClientJobState.Working);
        Assert.Equal(new ClientCounts(8, 4, 1, 3), index.Counts(clients = index.Sorted(), jobs, Now));
        index.SetJobState("job-b", "idle", null);

        var perJob = index.CountsPerJob(clients, jobs, Now);
        Assert.Equal(new ClientCounts(8, 2, 2, 4), perJob["job-a"]); // active: training-a, draining; idle: idle, training-b; unavailable: paused, removed, silent, dropped
        Assert.Equal(new ClientCounts(8, 1, 3, 4), perJob["job-b"]); // idle: training-a, idle, dropped
        Assert.Equal(new ClientCounts(8, 0, 4, 4), perJob["done"]); // a settled job has no active client
        Assert.Equal(new ClientCounts(8, 0, 4, 4), perJob["unknown"]);

        // The scheduler withdraws the task and the client asks again: idle for the job.
        index.SetJobState("job-a", "training-a", null);
        index.SetJobState("job-a", "dropped", null);
        Assert.Equal(new ClientCounts(8, 1, 4, 3), index.CountsPerJob(clients, [new("job-a", false)], Now)["job-a"]);
    }

    [Fact]
    public void A_seeded_snapshot_never_replaces_one_the_grain_pushed()
    {
        var index = new ClientIndex(Options.Create(new ServerOptions()));
        index.Upsert(Client("c", admission: ClientAdmission.Paused));
        index.Seed(Client("c"));
        Assert.True(index.TryGet("c", out var kept));
        Assert.Equal(ClientAdmission.Paused, kept.Admission);
        index.Seed(Client("d"));
        Assert.Equal(2, index.Count);
    }

    [Fact]
    public async Task Grains_and_the_scheduler_push_enrolment_tasks_pauses_and_removal_to_the_index()
    {
        var index = Fixture.Server.App.Services.GetRequiredService<ClientIndex>();
        var grains = Fixture.Server.App.Services.GetRequiredService<IGrainFactory>();
        await CreateJob("counted");
        foreach (var id in new[] { "count-a", "count-b", "count-c" })
            await Fixture.Coordinator.EnrolAsync(new EnrolRequest { ClientId = id });

        var task = await Fixture.Coordinator.PollTaskAsync(new PollTaskRequest { ClientId = "count-a", WaitSeconds = 10 });
        Assert.Equal(PollTaskReply.OutcomeOneofCase.Task, task.OutcomeCase);
        // The clients page shows what the scheduler handed out: job, rank and local steps.
        var assignment = index.AssignmentOf("count-a");
        Assert.NotNull(assignment);
        Assert.Equal(("counted", task.Task.Lora.Rank, task.Task.LocalSteps), (assignment.JobId, assignment.Rank, assignment.Steps));
        Assert.Null(index.AssignmentOf("count-b"));
        var row = Assert.Single(DashboardViews.Page(DashboardViews.Table(index, [], DateTimeOffset.UtcNow), "count-a", 0, 50).Items);
        Assert.Equal(("counted", task.Task.Lora.Rank, task.Task.LocalSteps), (row.AssignedJob, row.AssignedRank, row.AssignedSteps));
        await grains.GetGrain<IClientGrain>("count-b").SetAdmission(ClientAdmission.Paused);
        await CreateJob("bystander"); // nobody works on it

        Assert.Equal(new ClientCounts(3, 1, 1, 1), Counts(index, "counted")); // a trains, c idle, b paused
        Assert.Equal(new ClientCounts(3, 0, 2, 1), Counts(index, "bystander"));
        Assert.True(index.TryGet("count-b", out var paused));
        Assert.Equal(ClientAdmission.Paused, paused.Admission);

        await grains.GetGrain<IClientGrain>("count-c").SetAdmission(ClientAdmission.Removed);
        Assert.Equal(new ClientCounts(3, 1, 0, 2), Counts(index, "counted"));
        Assert.True(index.TryGet("count-c", out var removed));
        Assert.Equal(ClientAdmission.Removed, removed.Admission);

        // The task given back: a is idle for the job again.
        await Fixture.Coordinator.AbandonTaskAsync(new AbandonTaskRequest { ClientId = "count-a", JobId = task.Task.JobId, TaskId = task.Task.TaskId, Round = task.Task.Round, Reason = "test" });
        Assert.Equal(new ClientCounts(3, 0, 1, 2), Counts(index, "counted"));

        // Heartbeats carry activity to the index without a write to the grain's storage.
        await Fixture.Coordinator.HeartbeatAsync(new HeartbeatRequest { ClientId = "count-a", Activity = ClientActivity.Training, Progress = 0.5 });
        Assert.True(index.TryGet("count-a", out var beating));
        Assert.Equal(ClientActivityKind.Training, beating.Activity);
        Assert.Equal(0.5, beating.Progress);
    }

    [Fact]
    public async Task The_clients_page_shows_the_version_and_labels_a_client_enrolled_with_and_filters_by_them()
    {
        var enrol = new EnrolRequest { ClientId = "labelled", ClientVersion = "2.1.0-test" };
        enrol.Labels.Add("site", "lab-3");
        enrol.Labels.Add("owner", "ana");
        await Fixture.Coordinator.EnrolAsync(enrol);
        await Fixture.Coordinator.EnrolAsync(new EnrolRequest { ClientId = "unlabelled" });
        var table = DashboardViews.Table(Fixture.Server.App.Services.GetRequiredService<ClientIndex>(), [], DateTimeOffset.UtcNow);

        var row = Assert.Single(DashboardViews.Page(table, "SITE=lab-3", 0, 50).Items);
        Assert.Equal(("labelled", "2.1.0-test"), (row.Id, row.ClientVersion));
        Assert.Equal(["owner", "site"], row.Labels.Keys); // sorted, as the page shows them
        Assert.Equal("ana", row.Labels["owner"]);
        Assert.Equal("labelled", Assert.Single(DashboardViews.Page(table, "2.1.0-test", 0, 50).Items).Id);
        var bare = Assert.Single(DashboardViews.Page(table, "unlabelled", 0, 50).Items);
        Assert.Equal("", bare.ClientVersion);
        Assert.Empty(bare.Labels);

        // What GET api/clients streams (ASP.NET Core's web JSON: camelCase members, label keys as given).
        var json = JsonSerializer.Serialize(row, JsonSerializerOptions.Web);
        Assert.Contains("\"clientVersion\":\"2.1.0-test\"", json);
        Assert.Contains("\"labels\":{\"owner\":\"ana\",\"site\":\"lab-3\"}", json);
    }

    /// <summary>Counts over the clients this test enrolled (the server is shared with other test classes).</summary>
    private static ClientCounts Counts(ClientIndex index, string jobId)
    {
        var mine = index.Sorted().Where(c => c.ClientId.StartsWith("count-", StringComparison.Ordinal)).ToArray();
        return index.CountsPerJob(mine, [new(jobId, false)], DateTimeOffset.UtcNow)[jobId];
    }

    private async Task CreateJob(string jobId)
    {
        var spec = new JobSpec { JobId = jobId, BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1, ClientsPerRound = 2, LocalSteps = 1 };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        await Fixture.Operator.CreateJobAsync(new CreateJobRequest { Spec = spec });
    }

    private static ClientSnapshot Client(string id, ClientActivityKind activity = ClientActivityKind.Idle, ClientAdmission admission = ClientAdmission.Active, DateTimeOffset? lastSeen = null) => new()
    {
        ClientId = id,
        Profile = new ClientProfile { Device = "cpu", CpuCores = 2 },
        EnrolledAt = Now.AddHours(-1),
        LastSeen = lastSeen ?? Now.AddSeconds(-5),
        Activity = activity,
        Admission = admission,
    };
}
