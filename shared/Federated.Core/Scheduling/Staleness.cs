namespace Federated.Core.Scheduling;

/// <summary>Polynomial staleness discount S(τ) = (τ + 1)^(−a), a ≥ 0 (Xie et al., FedAsync; APPFL's "polynomial"): 1 for a fresh update, falling with the staleness τ.</summary>
public static class Staleness
{
    public static double Polynomial(long staleness, double a)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(staleness);
        return Math.Pow(staleness + 1, -a);
    }
}
