using System.Diagnostics;
using System.Globalization;
using static TorchSharp.torch;

namespace Federated.Simulations.Bench;

/// <summary>What the bench sections measure with: best-of timings, the machine's GEMM rate, resident memory, and how a ratio is shown.</summary>
public static class BenchMeasure
{
    /// <summary>The fastest of <paramref name="repeats"/> runs, in seconds.</summary>
    public static double Best<T>(Func<T> action, int repeats = 3)
    {
        var best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            GC.KeepAlive(action());
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>FLOP/s of a size×size matrix product of <paramref name="type"/> on the CPU, best of <paramref name="repeats"/>.</summary>
    public static double GemmFlopsPerSecond(ScalarType type, int size, int repeats)
    {
        using var a = randn([size, size], type);
        using var b = randn([size, size], type);
        var seconds = Best(() =>
        {
            using var c = a.matmul(b);
            return c.shape[0];
        }, repeats);
        return 2.0 * size * size * size / seconds;
    }

    /// <summary>A ratio in green when it meets <paramref name="target"/>, red when not (Spectre markup).</summary>
    public static string Ratio(double value, double target, bool lowerIsBetter = false)
    {
        var met = lowerIsBetter ? value <= target : value >= target;
        return $"[{(met ? "green" : "red")}]{value.ToString("F2", CultureInfo.InvariantCulture)}[/]";
    }
}
