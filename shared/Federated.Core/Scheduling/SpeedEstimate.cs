namespace Federated.Core.Scheduling;

/// <summary>
/// The one rule for a client's speed estimate: an exponential moving average of seconds per step with weight
/// <c>momentum</c> on the newest measurement (FedCompass's m = 0.9 by default). The scheduling policies keep one per
/// job (with the job's momentum); the server's client record keeps one across jobs for the dashboard.
/// </summary>
public static class SpeedEstimate
{
    public const double DefaultMomentum = 0.9;

    /// <summary>The estimate after <paramref name="measured"/>; the first measurement is taken as it is.</summary>
    public static double Next(double? previous, double measured, double momentum)
        => previous is { } p ? (1 - momentum) * p + momentum * measured : measured;
}
