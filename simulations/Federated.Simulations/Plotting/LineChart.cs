using System.Globalization;

namespace Federated.Simulations.Plotting;

/// <summary>One line of a chart: its legend name and points in data coordinates, drawn in order.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// A line chart rendered to a <see cref="PngImage"/>: axes with labelled "nice" ticks, light grid lines,
/// one coloured line per series and a legend, titles drawn with <see cref="BitmapFont"/>.
/// </summary>
public sealed class LineChart(string title, string xLabel, string yLabel)
{
    private const int Left = 90, Right = 250, Top = 40, Bottom = 60;

    /// <summary>Distinguishable line colours, used in turn.</summary>
    public static IReadOnlyList<Rgb> Palette { get; } =
    [
        new(31, 119, 180), new(214, 39, 40), new(44, 160, 44), new(255, 127, 14),
        new(148, 103, 189), new(140, 86, 75), new(227, 119, 194), new(127, 127, 127),
        new(188, 189, 34), new(23, 190, 207),
    ];

    public List<ChartSeries> Series { get; } = [];

    public PngImage Render(int width = 900, int height = 560)
    {
        if (width < Left + Right + 50 || height < Top + Bottom + 50)
            throw new ArgumentException($"a chart needs at least {Left + Right + 50}×{Top + Bottom + 50} pixels, got {width}×{height}");
        var image = new PngImage(width, height, Rgb.White);
        var points = Series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var (xMin, xMax) = Range(points.Select(p => p.X), includeZero: true);
        var (yMin, yMax) = Range(points.Select(p => p.Y), includeZero: false);
        var xTicks = NiceTicks(xMin, xMax);
        var yTicks = NiceTicks(yMin, yMax);
        (xMin, xMax) = (Math.Min(xMin, xTicks[0]), Math.Max(xMax, xTicks[^1]));
        (yMin, yMax) = (Math.Min(yMin, yTicks[0]), Math.Max(yMax, yTicks[^1]));
        int plotWidth = width - Left - Right, plotHeight = height - Top - Bottom;
        int Px(double x) => Left + (int)Math.Round((x - xMin) / (xMax - xMin) * plotWidth);
        int Py(double y) => Top + plotHeight - (int)Math.Round((y - yMin) / (yMax - yMin) * plotHeight);

        foreach (var tick in xTicks)
        {
            Line(image, Px(tick), Top, Px(tick), Top + plotHeight, Rgb.Grid, 1);
            var label = Format(tick, xTicks);
            BitmapFont.Draw(image, label, Px(tick) - BitmapFont.Measure(label) / 2, Top + plotHeight + 8, Rgb.Black);
        }
        foreach (var tick in yTicks)
        {
            Line(image, Left, Py(tick), Left + plotWidth, Py(tick), Rgb.Grid, 1);
            var label = Format(tick, yTicks);
            BitmapFont.Draw(image, label, Left - 8 - BitmapFont.Measure(label), Py(tick) - BitmapFont.GlyphHeight / 2, Rgb.Black);
        }
        Line(image, Left, Top, Left, Top + plotHeight, Rgb.Black, 1);
        Line(image, Left, Top + plotHeight, Left + plotWidth, Top + plotHeight, Rgb.Black, 1);
        BitmapFont.Draw(image, title, Left + (plotWidth - BitmapFont.Measure(title, 2)) / 2, 12, Rgb.Black, scale: 2);
        BitmapFont.Draw(image, xLabel, Left + (plotWidth - BitmapFont.Measure(xLabel, 2)) / 2, height - 26, Rgb.Black, scale: 2);
        BitmapFont.Draw(image, yLabel, 14, Top + (plotHeight + BitmapFont.Measure(yLabel, 2)) / 2, Rgb.Black, scale: 2, vertical: true);

        for (int s = 0; s < Series.Count; s++)
        {
            var color = Palette[s % Palette.Count];
            var line = Series[s].Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
            for (int i = 1; i < line.Count; i++)
                Line(image, Px(line[i - 1].X), Py(line[i - 1].Y), Px(line[i].X), Py(line[i].Y), color, 2);
            if (line.Count == 1)
                Line(image, Px(line[0].X) - 2, Py(line[0].Y), Px(line[0].X) + 2, Py(line[0].Y), color, 2);
            int legendY = Top + 10 + s * 16, legendX = Left + plotWidth + 16;
            Line(image, legendX, legendY + 3, legendX + 20, legendY + 3, color, 3);
            BitmapFont.Draw(image, Series[s].Name, legendX + 26, legendY, Rgb.Black);
        }
        return image;
    }

    /// <summary>Ticks at 1, 2 or 5 × 10^k covering [min, max], about six of them.</summary>
    public static IReadOnlyList<double> NiceTicks(double min, double max)
    {
        if (!(max > min))
            max = min + 1;
        var rough = (max - min) / 6;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(m => m * magnitude).First(s => s >= rough);
        var first = Math.Floor(min / step) * step;
        var ticks = new List<double>();
        for (var t = first; t < max + step * 0.999; t += step)
            ticks.Add(Math.Round(t / step) * step);
        return ticks;
    }

    private static (double Min, double Max) Range(IEnumerable<double> values, bool includeZero)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var v in values)
            (min, max) = (Math.Min(min, v), Math.Max(max, v));
        if (double.IsInfinity(min))
            return (0, 1);
        if (includeZero)
            min = Math.Min(0, min);
        return max > min ? (min, max) : (min - 0.5, max + 0.5);
    }

    private static string Format(double value, IReadOnlyList<double> ticks)
    {
        var step = ticks.Count > 1 ? ticks[1] - ticks[0] : 1;
        var decimals = Math.Max(0, (int)-Math.Floor(Math.Log10(step) + 1e-9));
        return value.ToString("F" + decimals, CultureInfo.InvariantCulture);
    }

    /// <summary>Bresenham's line, <paramref name="thickness"/> pixels square per point.</summary>
    private static void Line(PngImage image, int x0, int y0, int x1, int y1, Rgb color, int thickness)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, error = dx + dy;
        while (true)
        {
            for (int ox = 0; ox < thickness; ox++)
            {
                for (int oy = 0; oy < thickness; oy++)
                    image.Set(x0 + ox - thickness / 2, y0 + oy - thickness / 2, color);
            }
            if (x0 == x1 && y0 == y1)
                return;
            var e2 = 2 * error;
            if (e2 >= dy)
                (error, x0) = (error + dy, x0 + sx);
            if (e2 <= dx)
                (error, y0) = (error + dx, y0 + sy);
        }
    }
}
