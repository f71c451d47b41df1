namespace Federated.Core.Scheduling;

/// <summary>Polynomial staleness discount S(u) = (u + 1)^(−a) (Xie et al., FedAsync): 1 for a fresh update, falling with u.</summary>
public static class Staleness
{
    public static double Polynomial(long staleness, double a)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(staleness);
        return Math.Pow(staleness + 1, -a);
    }
}
