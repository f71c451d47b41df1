using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Federated.Contracts.Errors;
using Federated.Server.Clients;

namespace Federated.Server.Observability;

/// <summary>
/// The coordinator's own instruments (meter "Federated.Server"), exported with Orleans' on the metrics endpoint
/// (<see cref="MetricsEndpoint"/>). Per-job tags carry job ids, which operators choose and are few; refusals
/// are tagged by kind only, as anyone can send a refused upload naming any job.
/// </summary>
public sealed class FederatedMetrics
{
    public const string MeterName = "Federated.Server";

    private readonly TimeProvider _time;
    private readonly ClientIndex _clients;
    private readonly Counter<long> _rounds;
    private readonly Histogram<double> _aggregationSeconds;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _bytesSent;
    private readonly Histogram<double> _pollWaitSeconds;
    private readonly ConcurrentDictionary<string, bool> _settled = new(StringComparer.Ordinal);

    public FederatedMetrics(IMeterFactory meters, ClientIndex clients, TimeProvider time)
    {
        _time = time;
        _clients = clients;
        var meter = meters.Create(MeterName);
        _rounds = meter.CreateCounter<long>("federated.rounds.aggregated", "{round}", "Rounds committed to a job's history");
        _aggregationSeconds = meter.CreateHistogram<double>("federated.aggregation.duration", "s", "Time to combine a round's updates into its global update", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] });
        _accepted = meter.CreateCounter<long>("federated.updates.accepted", "{update}", "Client updates accepted by a job's scheduler");
        _refused = meter.CreateCounter<long>("federated.updates.refused", "{update}", "Client uploads refused, by kind of refusal");
        _bytesReceived = meter.CreateCounter<long>("federated.bytes.received", "By", "Update bytes received from clients (up)");
        _bytesSent = meter.CreateCounter<long>("federated.bytes.sent", "By", "Adapter bytes sent to clients and operators (down)");
        _pollWaitSeconds = meter.CreateHistogram<double>("federated.poll.wait.duration", "s", "How long a PollTask call was held before it was answered", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 20, 25] });
        meter.CreateObservableGauge("federated.clients.active", ActiveClients, "{client}", "Live clients holding an open task of the job");
    }

    /// <summary>A start time for the durations below (from the server's clock).</summary>
    public long Timestamp() => _time.GetTimestamp();

    public void RoundCommitted(string jobId) => _rounds.Add(1, Job(jobId));

    public void RoundAggregated(string jobId, long started) => _aggregationSeconds.Record(_time.GetElapsedTime(started).TotalSeconds, Job(jobId));

    public void UpdateAccepted(string jobId) => _accepted.Add(1, Job(jobId));

    public void UpdateRefused(FederatedError reason) => _refused.Add(1, new KeyValuePair<string, object?>("reason", ReasonName(reason)));

    public void BytesReceived(long bytes) => _bytesReceived.Add(bytes);

    public void BytesSent(long bytes) => _bytesSent.Add(bytes);

    public void PollAnswered(long started, bool gotTask)
        => _pollWaitSeconds.Record(_time.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("outcome", gotTask ? "task" : "no_task"));

    /// <summary>A settled job (completed, stopped) has no active client, whatever tasks were still open.</summary>
    public void JobStatusChanged(string jobId, bool settled) => _settled[jobId] = settled;

    /// <summary>"failed_precondition" for <see cref="FederatedError.FailedPrecondition"/>, as Prometheus labels are usually written.</summary>
    public static string ReasonName(FederatedError reason) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(reason.ToString());

    private IEnumerable<Measurement<int>> ActiveClients()
    {
        var jobs = _clients.JobIds.Select(j => new JobSnapshotStatus(j, _settled.GetValueOrDefault(j))).ToList();
        if (jobs.Count == 0)
            return [];
        return _clients.CountsPerJob(_clients.Sorted(), jobs, _time.GetUtcNow())
            .Select(c => new Measurement<int>(c.Value.Active, Job(c.Key)));
    }

    private static KeyValuePair<string, object?> Job(string jobId) => new("job", jobId);
}
