using Federated.Contracts.Clients;
using Federated.Contracts.Jobs;

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
    string? EvaluationError);

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

/// <summary>Counts of clients by what they are doing.</summary>
public sealed record ClientCounts(int Total, int Active, int Idle, int Unavailable);

public sealed record OverviewView(ClientCounts Clients, JobView[] Jobs, DateTimeOffset At);

public sealed record ClientView(
    string Id,
    string Device,
    int CpuCores,
    long MemoryBytes,
    string Accelerator,
    double MeasuredGflops,
    double? SecondsPerStep,
    double[] SpeedTrend,
    int? Rank,
    string Activity,
    double Progress,
    bool Available,
    DateTimeOffset LastSeen,
    int TasksCompleted,
    int TasksExpired,
    string Admission);

public sealed record ClientPage(ClientCounts Counts, int Matching, int Page, int PageSize, ClientView[] Items, DateTimeOffset At);

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
            job.JobId, job.Status.ToString().ToLowerInvariant(), job.CreatedAt, job.Version, job.Config,
            job.CompletedRounds, job.Config.Rounds, job.Config.Rounds == 0 ? 0 : (double)job.CompletedRounds / job.Config.Rounds,
            bytes, eta, Metrics(job.Baseline), rounds, Events(job), job.Error, job.EvaluationError);
    }

    public static ClientView Client(ClientSnapshot client, bool available, double[] trend, int? rank) => new(
        client.ClientId, client.Profile.Device, client.Profile.CpuCores, client.Profile.MemoryBytes, client.Profile.AcceleratorName,
        client.Profile.MeasuredGflops, client.SecondsPerStep, trend, rank, client.Activity.ToString().ToLowerInvariant(),
        client.Progress, available, client.LastSeen, client.TasksCompleted, client.TasksExpired, client.Admission.ToString().ToLowerInvariant());

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
