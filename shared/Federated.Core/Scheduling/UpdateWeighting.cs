namespace Federated.Core.Scheduling;

/// <summary>
/// How an asynchronous policy (fedasync, fedbuff, fedcompass) sizes an update's sample factor w_k in its weight
/// α·S(τ)·w_k (job parameter <c>scheduler.weighting</c>). Synchronous rounds always use <see cref="Batch"/> (FedAvg).
/// </summary>
public enum UpdateWeighting
{
    /// <summary>
    /// w_k = n_k / N, N the samples of every client of the federation (all the policy knows, less those removed), as
    /// the FedCompass authors' APPFL aggregators compute it (fedasync_aggregator.py, fedbuff_aggregator.py,
    /// fedcompass_aggregator.py); a group's update is the sum of its members' weights. A client that has not reported
    /// yet counts at the mean of the known ones, so with equal data w_k = 1/N_clients from the first update.
    /// </summary>
    Federation,

    /// <summary>
    /// w_k = n_k / Σ n over the updates of this aggregation: the rule before federation weighting (a lone update gets
    /// the whole α). Kept to reproduce earlier measurements.
    /// </summary>
    Batch,
}

/// <summary>Names of <see cref="UpdateWeighting"/> as job configs and the CLI write them.</summary>
public static class UpdateWeightings
{
    public const string Federation = "federation";
    public const string Batch = "batch";

    public static IReadOnlyList<string> Names { get; } = [Federation, Batch];

    /// <summary>The weighting named <paramref name="name"/> (case-insensitive); throws <see cref="ArgumentException"/> naming <paramref name="field"/> (if given) and the choices.</summary>
    public static UpdateWeighting Parse(string name, string? field = null) => name.Trim().ToLowerInvariant() switch
    {
        Federation => UpdateWeighting.Federation,
        Batch => UpdateWeighting.Batch,
        _ => throw new ArgumentException($"{(field is null ? "" : $"{field}: ")}'{name}' is not known; choose {Federation} or {Batch}"),
    };

    public static string Name(UpdateWeighting weighting) => weighting == UpdateWeighting.Batch ? Batch : Federation;
}
