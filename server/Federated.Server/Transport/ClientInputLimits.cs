using Federated.Contracts;
using Federated.Contracts.Clients;
using Federated.Contracts.Errors;
using Federated.Protos.V1;

namespace Federated.Server.Transport;

/// <summary>
/// The bounds every number and string from a client daemon must keep, checked where it enters (the gRPC
/// door, and again in the grains that keep it). A value outside them is refused with INVALID_ARGUMENT
/// naming the field; nothing of the request is kept. NaN and infinities are never accepted: one of them in
/// a profile or a heartbeat once made the dashboard fail for every operator.
/// </summary>
public static class ClientInputLimits
{
    public const int MaxCpuCores = 65_536;

    /// <summary>1 PiB: far beyond any machine, small enough that sums of many clients stay exact in a double.</summary>
    public const long MaxMemoryBytes = 1L << 50;

    /// <summary>10 PFLOP/s, about a hundred times today's fastest single accelerator.</summary>
    public const double MaxGflops = 1e7;

    public const int MaxTextLength = 256;
    public const int MaxLabels = 64;
    public const int MaxLabelKeyLength = 64;

    /// <summary>Server-made task ids are "job.tN.client": two ids and a number.</summary>
    public const int MaxTaskIdLength = 160;

    /// <summary>Seconds a training statistic may claim (a year).</summary>
    public const double MaxSeconds = 365 * 24 * 3600.0;

    public const int MaxMetrics = 64;
    public const int MaxMetricNameLength = 64;
    public const int MaxReasonLength = 512;

    public static void CheckProfile(ClientProfile profile)
    {
        CheckRange(profile.CpuCores, 0, MaxCpuCores, "device.cpu_cores");
        CheckRange(profile.MemoryBytes, 0, MaxMemoryBytes, "device.memory_bytes");
        CheckRange(profile.AcceleratorMemoryBytes, 0, MaxMemoryBytes, "device.accelerator_memory_bytes");
        CheckFinite(profile.MeasuredGflops, 0, MaxGflops, "device.measured_gflops");
        CheckText(profile.AcceleratorName, MaxTextLength, "device.accelerator_name");
        CheckText(profile.ClientVersion, MaxTextLength, "client_version");
        if (profile.Labels.Count > MaxLabels)
            throw Invalid("labels", $"at most {MaxLabels} labels, got {profile.Labels.Count}");
        foreach (var (key, value) in profile.Labels)
        {
            if (key.Length == 0)
                throw Invalid("labels", "a label needs a non-empty key");
            CheckText(key, MaxLabelKeyLength, "labels");
            CheckText(value, MaxTextLength, $"labels[{key}]");
        }
    }

    public static void CheckHeartbeat(double progress, string? taskId)
    {
        CheckFinite(progress, 0, 1, "progress");
        if (!string.IsNullOrEmpty(taskId))
            CheckTaskId(taskId);
    }

    /// <summary>Everything in an update's header that does not need the task to judge.</summary>
    public static void CheckHeader(UpdateHeader header, long maxSamples)
    {
        CheckTaskId(header.TaskId);
        if (!double.IsFinite(header.Alpha) || header.Alpha <= 0)
            throw Invalid("alpha", $"must be a positive finite number, got {header.Alpha}");
        if (header.NumSamples <= 0 || header.NumSamples > maxSamples)
            throw Invalid("num_samples", $"must be between 1 and {maxSamples} (it weights the update), got {header.NumSamples}");
        if (header.Stats is { } stats)
        {
            CheckRange(stats.Steps, 0, int.MaxValue, "stats.steps");
            CheckFinite(stats.FirstLoss, double.MinValue, double.MaxValue, "stats.first_loss");
            CheckFinite(stats.MeanLoss, double.MinValue, double.MaxValue, "stats.mean_loss");
            CheckFinite(stats.FinalLoss, double.MinValue, double.MaxValue, "stats.final_loss");
            CheckFinite(stats.ComputeSeconds, 0, MaxSeconds, "stats.compute_seconds");
            CheckFinite(stats.SecondsPerStep, 0, MaxSeconds, "stats.seconds_per_step");
            CheckFinite(stats.DownloadSeconds, 0, MaxSeconds, "stats.download_seconds");
            CheckRange(stats.Tokens, 0, long.MaxValue, "stats.tokens");
        }
    }

    /// <summary>A metrics report: bounded in count, names of a plain charset (they go into the log), finite values.</summary>
    public static void CheckMetrics(IReadOnlyDictionary<string, double> metrics)
    {
        if (metrics.Count > MaxMetrics)
            throw Invalid("metrics", $"at most {MaxMetrics} metrics in one report, got {metrics.Count}");
        foreach (var (name, value) in metrics)
        {
            if (name.Length is 0 || name.Length > MaxMetricNameLength || !name.All(IsNameCharacter))
                throw Invalid("metrics", $"name '{Excerpt.Of(name)}' is not valid: use 1 to {MaxMetricNameLength} letters, digits, '_', '-', '.' or '/'");
            CheckFinite(value, double.MinValue, double.MaxValue, $"metrics[{name}]");
        }
    }

    public static string CheckTaskId(string? taskId)
    {
        if (string.IsNullOrEmpty(taskId))
            throw Invalid("task_id", "is required");
        if (taskId.Length > MaxTaskIdLength || !taskId.All(IsNameCharacter))
            throw Invalid("task_id", $"'{Excerpt.Of(taskId)}' is not a task id this server hands out");
        return taskId;
    }

    /// <summary>
    /// A task id this server hands <paramref name="clientId"/> in job <paramref name="jobId"/> has the form
    /// "job.tN.client" (<c>TaskLedger</c>): checked by its shape where the ledger cannot be asked (metrics arrive
    /// after the task's round may have closed), so a client reports only on tasks of its own, in that job.
    /// </summary>
    public static string CheckTaskOf(string? taskId, string jobId, string clientId)
    {
        var id = CheckTaskId(taskId);
        var prefix = jobId + ".t";
        var suffix = "." + clientId;
        var number = id.Length > prefix.Length + suffix.Length && id.StartsWith(prefix, StringComparison.Ordinal) && id.EndsWith(suffix, StringComparison.Ordinal)
            ? id[prefix.Length..^suffix.Length]
            : "";
        if (number.Length == 0 || !number.All(char.IsAsciiDigit))
            throw Invalid("task_id", $"'{Excerpt.Of(id)}' is not a task of job '{jobId}' for client '{clientId}'");
        return id;
    }

    /// <summary>Free text a client explains itself with (a task given back): kept, but short and on one line.</summary>
    public static string Sanitize(string? text) => Excerpt.Of(text, MaxReasonLength);

    private static bool IsNameCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/';

    private static void CheckRange(long value, long min, long max, string field)
    {
        if (value < min || value > max)
            throw Invalid(field, $"must be between {min} and {max}, got {value}");
    }

    private static void CheckFinite(double value, double min, double max, string field)
    {
        if (!double.IsFinite(value))
            throw Invalid(field, $"must be a finite number, got {value}");
        if (value < min || value > max)
            throw Invalid(field, $"must be between {min} and {max}, got {value}");
    }

    private static void CheckText(string? value, int maxLength, string field)
    {
        if (value is null)
            return;
        if (value.Length > maxLength)
            throw Invalid(field, $"at most {maxLength} characters, got {value.Length}");
        if (value.Any(char.IsControl))
            throw Invalid(field, $"'{Excerpt.Of(value)}' holds control characters");
    }

    private static FederatedException Invalid(string field, string message) => FederatedException.Invalid($"{field}: {message}");
}
