namespace Federated.Core.Randomness;

/// <summary>Gamma and Dirichlet draws from a <see cref="DeterministicRandom"/>, so partitions repeat under a seed.</summary>
public static class GammaSampler
{
    /// <summary>
    /// Gamma(shape, 1) by Marsaglia and Tsang (2000); for shape &lt; 1, Gamma(shape + 1) · U^(1/shape).
    /// </summary>
    public static double NextGamma(this DeterministicRandom random, double shape)
    {
        if (!(shape > 0) || double.IsInfinity(shape))
            throw new ArgumentOutOfRangeException(nameof(shape), shape, "gamma shape must be a positive finite number");
        if (shape < 1)
        {
            var u = 1.0 - random.NextDouble(); // in (0, 1]
            return random.NextGamma(shape + 1) * Math.Pow(u, 1 / shape);
        }
        var d = shape - 1.0 / 3;
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = random.NextGaussian();
                v = 1 + c * x;
            }
            while (v <= 0);
            v = v * v * v;
            var u = 1.0 - random.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v)))
                return d * v;
        }
    }

    /// <summary>Proportions from a symmetric Dirichlet(α, …, α) over <paramref name="count"/> outcomes.</summary>
    public static double[] NextDirichlet(this DeterministicRandom random, int count, double alpha)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var draws = new double[count];
        double sum = 0;
        for (int i = 0; i < count; i++)
            sum += draws[i] = random.NextGamma(alpha);
        if (sum <= 0)
        {
            // Every draw underflowed (tiny α): the limit puts all mass on one outcome.
            draws[(int)(random.NextUInt64() % (ulong)count)] = 1;
            return draws;
        }
        for (int i = 0; i < count; i++)
            draws[i] /= sum;
        return draws;
    }
}
