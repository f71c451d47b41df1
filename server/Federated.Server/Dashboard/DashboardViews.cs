using Federated.Contracts.Clients;
using Federated.Contracts.Jobs;
using Federated.Server.Clients;

namespace Federated.Server.Dashboard;

/// <summary>A job as the dashboard's pages draw it (serialised to JSON as is).</summary>
public sealed record JobView(
    string Id,
    string Status,
    DateTimeOffset CreatedAt,
    long Version,
    JobConfig Config,
    int CompletedRounds,
    int TotalRounds,
    double Progress,
    long BytesMoved,
    double? EtaSeconds,
    MetricsView? Baseline,
    RoundView[] Rounds,
    EventView[] Events,
    string? Error,
    string? EvaluationError,
    ClientCounts? Clients = null);

public sealed record MetricsView(double Loss, double TokenAccuracy, double ExactMatch, int Examples);

public sealed record RoundView(
    int Round,
    DateTimeOffset StartedAt,
    DateTimeOffset CompletedAt,
    int StackedRank,
    long UpdateBytes,
    MetricsView? Evaluation,
    ParticipantView[] Participants);

/// <summary>
/// One client's task in a round: the client's own report (download, then compute seconds) and the server's
/// times (hand-out, arrival, deadline), its arrival group and staleness.
/// </summary>
public sealed record ParticipantView(
    string ClientId,
    int Rank,
    long Samples,
    double Weight,
    int Steps,
    double MeanLoss,
    double FinalLoss,
    double SecondsPerStep,
    double DownloadSeconds,
    double ComputeSeconds,
    long UploadBytes,
    DateTimeOffset? IssuedAt,
    DateTimeOffset? ArrivedAt,
    DateTimeOffset? Deadline,
    long? Group,
    long Staleness);

public sealed record EventView(DateTimeOffset At, string Message);

/// <summary>The overview: server-wide client counts, and every job (newest first) with its own client counts.</summary>
public sealed record OverviewView(ClientCounts Clients, JobView[] Jobs, bool Indexing, DateTimeOffset At);

/// <summary>
/// Every client from the <see cref="ClientIndex"/>, sorted by id, with the counts, at one moment; pages filter
/// and slice it and only the rows of a page become <see cref="ClientView"/>s (and look up their assignment).
/// </summary>
public sealed record ClientTable(ClientCounts Counts, Dictionary<string, ClientCounts> JobCounts, ClientSnapshot[] Clients, bool[] Live, Func<string, ClientAssignment?> AssignmentOf, bool Indexing, DateTimeOffset At);

/// <param name="ClientVersion">The daemon's version as it reported at enrolment ("" if it did not say).</param>
/// <param name="Labels">The operator's labels from the client's settings (Client:Labels), as it reported them at enrolment.</param>
public sealed record ClientView(
    string Id,
    string Device,
    int CpuCores,
    long MemoryBytes,
    string Accelerator,
    string ClientVersion,
    IReadOnlyDictionary<string, string> Labels,
    double MeasuredGflops,
    double? SecondsPerStep,
    double[] SpeedTrend,
    int? Rank,
    string Activity,
    double Progress,
    bool Live,
    bool Available,
    DateTimeOffset LastSeen,
    int TasksCompleted,
    int TasksExpired,
    string Admission,
    string? AssignedJob,
    int? AssignedRank,
    int? AssignedSteps);

public sealed record ClientPage(ClientCounts Counts, int Matching, int Page, int PageSize, ClientView[] Items, bool Indexing, DateTimeOffset At);

/// <summary>Builds the views from grain snapshots.</summary>
public static class DashboardViews
{
    public static JobView Job(JobSnapshot job, Func<string, long> storedBytes)
    {
        var rounds = job.History.Select(r => new RoundView(
            r.Round, r.StartedAt, r.CompletedAt, r.StackedRank, r.UpdateBytes, Metrics(r.Evaluation),
            [.. r.Participants.Select(p => new ParticipantView(
                p.ClientId, p.Rank, p.NumSamples, p.Weight, p.Stats.Steps, p.Stats.MeanLoss, p.Stats.FinalLoss,
                p.Stats.SecondsPerStep, p.Stats.DownloadSeconds, p.Stats.ComputeSeconds, storedBytes(p.UpdateSha256),
                p.IssuedAt, p.ArrivedAt, p.Deadline, p.Group, p.Staleness))])).ToArray();

        // Each participant uploaded its update and downloaded the round's global update.
        var bytes = rounds.Sum(r => r.Participants.Sum(p => p.UploadBytes + r.UpdateBytes));
        double? eta = null;
        var remaining = job.Config.Rounds - job.CompletedRounds;
        if (job.Status == JobStatusKind.Running && rounds.Length > 0 && remaining > 0)
            eta = (rounds[^1].CompletedAt - job.CreatedAt).TotalSeconds / rounds.Length * remaining;

        return new JobView(
            job.JobId, job.Status.ToString().ToLowerInvariant(), job.CreatedAt, job.ChangeCount, job.Config,
            job.CompletedRounds, job.Config.Rounds, job.Config.Rounds == 0 ? 0 : (double)job.CompletedRounds / job.Config.Rounds,
            bytes, eta, Metrics(job.Baseline), rounds, Events(job), job.Error, job.EvaluationError);
    }

    /// <summary>The clients and their counts (server-wide and per job) now, from the index alone.</summary>
    public static ClientTable Table(ClientIndex index, IReadOnlyCollection<JobView> jobs, DateTimeOffset now)
    {
        var clients = index.Sorted();
        var live = Array.ConvertAll(clients, c => index.IsLive(c, now));
        var statuses = jobs.Select(j => new JobSnapshotStatus(j.Id, Settled: j.Status is not ("running" or "paused"))).ToArray();
        return new ClientTable(index.Counts(clients, statuses, now), index.CountsPerJob(clients, statuses, now), clients, live, index.AssignmentOf, index.Rebuilding, now);
    }

    public static OverviewView Overview(ClientTable table, JobView[] jobs)
        => new(table.Counts, [.. jobs.Select(j => j with { Clients = table.JobCounts.GetValueOrDefault(j.Id) })], table.Indexing, table.At);

    /// <summary>
    /// One page of the clients whose id, device, accelerator, version, a label ("key=value"), activity or
    /// admission contains <paramref name="query"/> (case-insensitive; all when empty).
    /// </summary>
    public static ClientPage Page(ClientTable table, string? query, int page, int pageSize)
    {
        var matching = new List<int>();
        for (int i = 0; i < table.Clients.Length; i++)
        {
            if (Matches(table.Clients[i], query))
                matching.Add(i);
        }
        var items = matching.Skip(page * pageSize).Take(pageSize).Select(i => Client(table.Clients[i], table.Live[i], table.AssignmentOf(table.Clients[i].ClientId))).ToArray();
        return new ClientPage(table.Counts, matching.Count, page, pageSize, items, table.Indexing, table.At);
    }

    private static bool Matches(ClientSnapshot client, string? query)
        => string.IsNullOrEmpty(query)
            || client.ClientId.Contains(query, StringComparison.OrdinalIgnoreCase)
            || client.Profile.Device.Contains(query, StringComparison.OrdinalIgnoreCase)
            || client.Profile.AcceleratorName.Contains(query, StringComparison.OrdinalIgnoreCase)
            || client.Profile.ClientVersion.Contains(query, StringComparison.OrdinalIgnoreCase)
            || client.Profile.Labels.Any(l => Label(l).Contains(query, StringComparison.OrdinalIgnoreCase))
            || Name(client.Admission).Contains(query, StringComparison.OrdinalIgnoreCase)
            || Name(client.Activity).Contains(query, StringComparison.OrdinalIgnoreCase);

    public static ClientView Client(ClientSnapshot client, bool live, ClientAssignment? assignment = null) => new(
        client.ClientId, client.Profile.Device, client.Profile.CpuCores, client.Profile.MemoryBytes, client.Profile.AcceleratorName,
        client.Profile.ClientVersion, new SortedDictionary<string, string>(client.Profile.Labels, StringComparer.Ordinal),
        client.Profile.MeasuredGflops, client.SecondsPerStep, client.SpeedTrend, client.Rank, Name(client.Activity),
        client.Progress, live, live && client.Admission == ClientAdmission.Active, client.LastSeen, client.TasksCompleted, client.TasksExpired, Name(client.Admission),
        assignment?.JobId, assignment?.Rank, assignment?.Steps);

    private static string Label(KeyValuePair<string, string> label) => $"{label.Key}={label.Value}";

    private static string Name(ClientAdmission admission) => admission switch
    {
        ClientAdmission.Active => "active",
        ClientAdmission.Paused => "paused",
        ClientAdmission.Draining => "draining",
        _ => "removed",
    };

    private static string Name(ClientActivityKind activity) => activity switch
    {
        ClientActivityKind.Idle => "idle",
        ClientActivityKind.Downloading => "downloading",
        ClientActivityKind.Training => "training",
        _ => "uploading",
    };

    private static MetricsView? Metrics(EvaluationSummary? m) => m is null ? null : new(m.Loss, m.TokenAccuracy, m.ExactMatch, m.Examples);

    /// <summary>The event log: creation, rounds, evaluations and operator actions, oldest first.</summary>
    private static EventView[] Events(JobSnapshot job)
    {
        var events = new List<EventView> { new(job.CreatedAt, $"created: {job.Config.BaseModel}, {job.Config.Rounds} rounds, ranks {string.Join(",", job.Config.Ranks)}, {job.Config.AggregationStrategy}") };
        foreach (var round in job.History)
        {
            events.Add(new(round.CompletedAt, $"round {round.Round} aggregated from {round.Participants.Length} clients ({string.Join(", ", round.Participants.Select(p => $"{p.ClientId} r{p.Rank}"))}): stacked rank {round.StackedRank}"));
            if (round.Evaluation is { } m)
                events.Add(new(round.CompletedAt, $"round {round.Round} held-out loss {m.Loss:F4}, token accuracy {m.TokenAccuracy:P1}"));
        }
        events.AddRange(job.Events.Select(e => new EventView(e.At, e.Message)));
        if (job.EvaluationError is { } evaluationError)
            events.Add(new(job.History.Length > 0 ? job.History[^1].CompletedAt : job.CreatedAt, evaluationError));
        if (job.Error is { } error)
            events.Add(new(job.History.Length > 0 ? job.History[^1].CompletedAt : job.CreatedAt, $"failed: {error}"));
        return [.. events.OrderBy(e => e.At)];
    }
}
