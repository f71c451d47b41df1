using Federated.Simulations.Compare;
using Federated.Simulations.Plotting;
using OxyPlot;
using SkiaSharp;

namespace Federated.Server.Tests.Compare;

/// <summary>`federated compare`'s charts, decoded back from PNG: size, series colours, error bands and text.</summary>
public class PlottingTests
{
    [Fact]
    public void Chart_has_the_requested_size_and_each_series_in_its_own_colour()
    {
        var chart = new BandChart("Loss", "virtual wall time (s)", "loss (nats per token)");
        chart.Series.Add(Series("a", x => 1 - x / 40, spread: 0));
        chart.Series.Add(Series("b", x => 0.9 - x / 200, spread: 0));
        var (png, _) = Render(chart, 800, 500);

        Assert.Equal((800, 500), (png.Width, png.Height));
        Assert.True(Count(png, BandChart.Palette[0]) > 100, "series a's colour is missing");
        Assert.True(Count(png, BandChart.Palette[1]) > 100, "series b's colour is missing");
        Assert.Equal(0, Count(png, BandChart.Palette[2]));
        // One seed: no band; only the anti-aliased edges of the line pass through the band's colour.
        Assert.True(Count(png, Band(BandChart.Palette[0])) < 300, $"{Count(png, Band(BandChart.Palette[0]))} band-coloured pixels");
    }

    [Fact]
    public void Band_covers_mean_plus_and_minus_the_spread_and_no_further()
    {
        var chart = new BandChart("Accuracy", "virtual wall time (s)", "token accuracy");
        chart.Series.Add(Series("a", x => 0.5, spread: 0.1));
        var (png, model) = Render(chart);
        var band = Band(BandChart.Palette[0]);

        Assert.True(Count(png, band) > 5000, $"only {Count(png, band)} band pixels");
        var (x, y) = (model.Axes[0], model.Axes[1]);
        foreach (var inside in new[] { 0.55, 0.45, 0.58, 0.42 })
            Assert.True(Near(png, x.Transform(10), y.Transform(inside), band) >= 12, $"no band at {inside}");
        foreach (var outside in new[] { 0.65, 0.35 })
            Assert.Equal(0, Near(png, x.Transform(10), y.Transform(outside), band));
        Assert.True(Near(png, x.Transform(10), y.Transform(0.5), BandChart.Palette[0]) >= 5, "the mean line is not drawn over the band");
    }

    [Fact]
    public void Title_axes_and_legend_have_text()
    {
        var chart = new BandChart("Held-out loss", "virtual wall time (s)", "loss (nats per token)") { Subtitle = "mean over 3 seeds" };
        chart.Series.Add(Series("fedcompass/stacking", x => 2 - x / 30, spread: 0.1));
        chart.Series.Add(Series("synchronous/stacking", x => 2 - x / 50, spread: 0.05));
        var (png, model) = Render(chart);
        var area = model.PlotArea;
        const int gap = 12; // past the plot frame and its tick marks, only text is dark

        var regions = new[]
        {
            ("title", Dark(png, 0, 0, png.Width, (int)area.Top - gap)),
            ("x tick labels and title", Dark(png, (int)area.Left, (int)area.Bottom + gap, (int)area.Right, png.Height)),
            ("y tick labels and title", Dark(png, 0, (int)area.Top, (int)area.Left - gap, (int)area.Bottom)),
            ("legend", Dark(png, (int)area.Right + gap, (int)area.Top, png.Width, (int)area.Bottom)),
        };
        Assert.All(regions, r => Assert.True(r.Item2 > 100, $"{r.Item1}: {r.Item2} dark pixels"));
        Assert.Equal(0, Dark(png, (int)area.Left + gap, (int)area.Top + gap, (int)area.Right - gap, (int)area.Bottom - gap));
    }

    [Fact]
    public void The_same_chart_renders_to_the_same_bytes()
    {
        var chart = new BandChart("Loss", "x (s)", "y");
        chart.Series.Add(Series("a", x => Math.Sin(x / 5), spread: 0.2));
        var first = new MemoryStream();
        var second = new MemoryStream();
        chart.WritePng(first);
        chart.WritePng(second);
        Assert.Equal(first.ToArray(), second.ToArray());
    }

    [Fact]
    public void Too_small_a_size_is_refused_with_the_size()
        => Assert.Contains("100×100", Assert.Throws<ArgumentException>(() => new BandChart("t", "x", "y").WritePng(new MemoryStream(), 100, 100)).Message);

    [Fact]
    public void Font_is_a_preferred_installed_one_and_none_is_an_error_naming_the_package()
    {
        Assert.Equal("liberation sans", PlotFont.Choose(["DejaVu Sans", "Liberation Sans"], ["Zapf", "liberation sans", "Arial"], f => f != "Zapf"));
        Assert.Equal("Arial", PlotFont.Choose(["DejaVu Sans"], ["Zapf", "Arial", "Courier"], f => f != "Zapf")); // first drawable by name
        var none = Assert.Throws<InvalidOperationException>(() => PlotFont.Choose(["DejaVu Sans"], ["Symbols"], _ => false));
        Assert.Contains("fonts-dejavu-core", none.Message);
        Assert.Throws<InvalidOperationException>(() => PlotFont.Choose(["DejaVu Sans"], [], _ => true));

        // This machine's choice draws the probe text with real glyphs.
        using var typeface = SKFontManager.Default.MatchFamily(PlotFont.Family());
        Assert.NotNull(typeface);
        Assert.All(typeface.GetGlyphs(PlotFont.Probe), g => Assert.NotEqual(0, g));
    }

    [Fact]
    public void Report_plots_draw_a_band_for_several_seeds_and_none_for_one()
    {
        using var folder = new Federated.Testing.TemporaryDirectory();
        var settings = new CompareSettings { Schedulers = ["fedcompass", "synchronous"], Seeds = [1, 2] };
        RunResult Run(string scheduler, ulong seed, double slope)
            => new(scheduler, "stacking", seed, Enumerable.Range(0, 11).Select(i => new EvaluationPoint(i * 10, i, 3 - slope * i, slope * i / 20, 0, i * 100, 1, 0)).ToList(), 100, 10, 10, 0, 1000);
        RunResult[] two = [Run("fedcompass", 1, 1.0), Run("fedcompass", 2, 1.6), Run("synchronous", 1, 0.5), Run("synchronous", 2, 0.7)];
        RunResult[] one = [two[0], two[2]];

        foreach (var (runs, name) in new[] { (two, "two"), (one, "one") })
        {
            var result = new ComparisonResult(settings, "test", 100, runs, ComparisonResult.Summarise(settings, runs));
            ComparisonReport.Write(result, folder[name]);
        }
        using var twoSeeds = SKBitmap.Decode(Path.Combine(folder["two"], ComparisonReport.AccuracyPlot));
        using var oneSeed = SKBitmap.Decode(Path.Combine(folder["one"], ComparisonReport.AccuracyPlot));
        Assert.Equal((BandChart.DefaultWidth, BandChart.DefaultHeight), (twoSeeds.Width, twoSeeds.Height));
        foreach (var color in BandChart.Palette.Take(2))
        {
            Assert.True(Count(twoSeeds, color) > 100 && Count(oneSeed, color) > 100, "a series line is missing");
            Assert.True(Count(twoSeeds, Band(color)) > 1000, "two seeds: no band");
            Assert.True(Count(oneSeed, Band(color)) < 300, "one seed: a band");
        }
    }

    private static BandSeries Series(string name, Func<double, double> mean, double spread)
        => new(name, Enumerable.Range(0, 41).Select(i => new BandPoint(i, mean(i), spread)).ToList());

    private static (SKBitmap Png, PlotModel Model) Render(BandChart chart, int width = BandChart.DefaultWidth, int height = BandChart.DefaultHeight)
    {
        var stream = new MemoryStream();
        var model = chart.WritePng(stream, width, height);
        return (SKBitmap.Decode(stream.ToArray()), model);
    }

    /// <summary>A band's colour over the white background: the series colour at <see cref="BandChart.BandAlpha"/>.</summary>
    private static OxyColor Band(OxyColor color)
    {
        static byte Over(byte c) => (byte)Math.Round(255 + (c - 255) * (BandChart.BandAlpha / 255.0));
        return OxyColor.FromRgb(Over(color.R), Over(color.G), Over(color.B));
    }

    /// <summary>Pixels within a small tolerance (anti-aliasing and rounding) of <paramref name="color"/>.</summary>
    private static int Count(SKBitmap png, OxyColor color) => Count(png, color, 0, 0, png.Width, png.Height);

    private static int Count(SKBitmap png, OxyColor color, int left, int top, int right, int bottom)
    {
        var count = 0;
        for (int y = Math.Max(0, top); y < Math.Min(png.Height, bottom); y++)
        {
            for (int x = Math.Max(0, left); x < Math.Min(png.Width, right); x++)
            {
                var p = png.GetPixel(x, y);
                if (Math.Abs(p.Red - color.R) <= 3 && Math.Abs(p.Green - color.G) <= 3 && Math.Abs(p.Blue - color.B) <= 3)
                    count++;
            }
        }
        return count;
    }

    /// <summary>Pixels of <paramref name="color"/> in the 5×5 square around a point.</summary>
    private static int Near(SKBitmap png, double x, double y, OxyColor color)
        => Count(png, color, (int)Math.Round(x) - 2, (int)Math.Round(y) - 2, (int)Math.Round(x) + 3, (int)Math.Round(y) + 3);

    /// <summary>Near-black pixels (text is black; no line, band or grid colour is this dark) in a rectangle.</summary>
    private static int Dark(SKBitmap png, int left, int top, int right, int bottom)
    {
        var count = 0;
        for (int y = Math.Max(0, top); y < Math.Min(png.Height, bottom); y++)
        {
            for (int x = Math.Max(0, left); x < Math.Min(png.Width, right); x++)
            {
                var p = png.GetPixel(x, y);
                if (p.Red < 128 && p.Green < 128 && p.Blue < 128)
                    count++;
            }
        }
        return count;
    }
}
