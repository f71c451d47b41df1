namespace Federated.Core.Adapters;

/// <summary>Dense reference arithmetic on adapter updates, in double precision: for checks and diffs, not hot paths.</summary>
public static class AdapterMath
{
    /// <summary>ΔW = scale · B · A as an [out, in] matrix.</summary>
    public static double[,] Delta(LoraFactors factors, double scale)
    {
        var delta = new double[factors.OutFeatures, factors.InFeatures];
        for (int i = 0; i < factors.OutFeatures; i++)
        {
            for (int k = 0; k < factors.Rank; k++)
            {
                var b = scale * factors.B[i, k];
                for (int j = 0; j < factors.InFeatures; j++)
                    delta[i, j] += b * factors.A[k, j];
            }
        }
        return delta;
    }

    /// <summary>Σ_k weight_k · matrix_k.</summary>
    public static double[,] WeightedSum(IEnumerable<(double[,] Matrix, double Weight)> terms)
    {
        double[,]? total = null;
        foreach (var (matrix, weight) in terms)
        {
            total ??= new double[matrix.GetLength(0), matrix.GetLength(1)];
            for (int i = 0; i < matrix.GetLength(0); i++)
                for (int j = 0; j < matrix.GetLength(1); j++)
                    total[i, j] += weight * matrix[i, j];
        }
        return total ?? throw new ArgumentException("no terms to sum", nameof(terms));
    }

    /// <summary>‖x − y‖_F / ‖y‖_F.</summary>
    public static double RelativeError(double[,] x, double[,] y)
    {
        double difference = 0, norm = 0;
        for (int i = 0; i < y.GetLength(0); i++)
        {
            for (int j = 0; j < y.GetLength(1); j++)
            {
                var d = x[i, j] - y[i, j];
                difference += d * d;
                norm += y[i, j] * y[i, j];
            }
        }
        return Math.Sqrt(difference / norm);
    }
}
