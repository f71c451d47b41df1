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

/// <summary>Median and range of repeated measurements (pairs on a shared machine are noisy: the median is the figure).</summary>
public readonly record struct Spread(double Median, double Min, double Max)
{
    public static Spread Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
            throw new ArgumentException("no measurements", nameof(values));
        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new Spread(median, sorted[0], sorted[^1]);
    }

    public string Range(string format) => $"{Min.ToString(format, CultureInfo.InvariantCulture)}–{Max.ToString(format, CultureInfo.InvariantCulture)}";

    /// <summary>The median, with the range when there is more than one distinct value.</summary>
    public string Show(string format) => Min == Max ? Median.ToString(format, CultureInfo.InvariantCulture) : $"{Median.ToString(format, CultureInfo.InvariantCulture)} ({Range(format)})";

    public string ShowBytes() => Min == Max ? BenchShapes.Bytes(Median) : $"{BenchShapes.Bytes(Median)} ({BenchShapes.Bytes(Min)}–{BenchShapes.Bytes(Max)})";
}
