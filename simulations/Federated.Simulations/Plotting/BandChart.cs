using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;
using OxyPlot.SkiaSharp;

namespace Federated.Simulations.Plotting;

/// <summary>One x of a series: the mean over seeds and their sample standard deviation (0 for one seed).</summary>
public readonly record struct BandPoint(double X, double Mean, double Spread);

/// <summary>One line of a chart: its legend name and points, drawn in order.</summary>
public sealed record BandSeries(string Name, IReadOnlyList<BandPoint> Points);

/// <summary>
/// A line chart with an error band: each series is drawn as its mean line over a translucent mean ± sd band
/// (the band only where some spread is non-zero), with titled axes and a legend, rendered by OxyPlot on SkiaSharp.
/// </summary>
public sealed class BandChart(string title, string xTitle, string yTitle)
{
    public const int DefaultWidth = 1000, DefaultHeight = 600;

    /// <summary>How opaque a band is (of 255): light enough that overlapping bands and the lines stay readable.</summary>
    public const byte BandAlpha = 56;

    /// <summary>Distinguishable line colours (Tableau 10), used in turn.</summary>
    public static IReadOnlyList<OxyColor> Palette { get; } =
    [
        OxyColor.FromRgb(31, 119, 180), OxyColor.FromRgb(214, 39, 40), OxyColor.FromRgb(44, 160, 44), OxyColor.FromRgb(255, 127, 14),
        OxyColor.FromRgb(148, 103, 189), OxyColor.FromRgb(140, 86, 75), OxyColor.FromRgb(227, 119, 194), OxyColor.FromRgb(127, 127, 127),
        OxyColor.FromRgb(188, 189, 34), OxyColor.FromRgb(23, 190, 207),
    ];

    /// <summary>A second line under the title, e.g. what the band means.</summary>
    public string? Subtitle { get; init; }

    public List<BandSeries> Series { get; } = [];

    /// <summary>The OxyPlot model of this chart; its layout (PlotArea) is known once it has been rendered.</summary>
    public PlotModel Model()
    {
        var font = PlotFont.Family();
        var model = new PlotModel
        {
            Title = title,
            Subtitle = Subtitle,
            DefaultFont = font,
            TitleFontSize = 18,
            SubtitleFontSize = 13,
            DefaultFontSize = 13,
            Background = OxyColors.White,
            PlotAreaBorderColor = OxyColors.Black,
            PlotAreaBorderThickness = new OxyThickness(1),
            Padding = new OxyThickness(12),
        };
        model.Axes.Add(Axis(AxisPosition.Bottom, xTitle));
        model.Axes.Add(Axis(AxisPosition.Left, yTitle));
        model.Legends.Add(new Legend
        {
            LegendPlacement = LegendPlacement.Outside,
            LegendPosition = LegendPosition.RightTop,
            LegendFont = font,
            LegendFontSize = 13,
            LegendSymbolLength = 28,
            LegendBorder = OxyColors.Undefined,
        });
        for (int s = 0; s < Series.Count; s++)
        {
            var color = Palette[s % Palette.Count];
            var points = Series[s].Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Mean)).ToList();
            if (points.Any(p => p.Spread > 0))
            {
                // Added before every line so that no band covers another series' line; untitled: not in the legend.
                var band = new AreaSeries
                {
                    Fill = OxyColor.FromAColor(BandAlpha, color),
                    Color = OxyColors.Transparent,
                    Color2 = OxyColors.Transparent,
                    StrokeThickness = 0,
                };
                band.Points.AddRange(points.Select(p => new DataPoint(p.X, p.Mean + Spread(p))));
                band.Points2.AddRange(points.Select(p => new DataPoint(p.X, p.Mean - Spread(p))));
                model.Series.Insert(0, band);
            }
            var line = new LineSeries
            {
                Title = Series[s].Name,
                Color = color,
                StrokeThickness = 2.5,
                MarkerType = points.Count == 1 ? MarkerType.Circle : MarkerType.None,
                MarkerFill = color,
            };
            line.Points.AddRange(points.Select(p => new DataPoint(p.X, p.Mean)));
            model.Series.Add(line);
        }
        return model;
    }

    /// <summary>Writes the chart as a PNG; returns the model as rendered (for its layout).</summary>
    public PlotModel WritePng(Stream stream, int width = DefaultWidth, int height = DefaultHeight)
    {
        if (width < 300 || height < 200)
            throw new ArgumentException($"a chart needs at least 300×200 pixels, got {width}×{height}");
        var model = Model();
        // No text shaping: Latin labels need none, and shaping would need HarfBuzz's native library too.
        new PngExporter { Width = width, Height = height, UseTextShaping = false }.Export(model, stream);
        return model;
    }

    public void Save(string path, int width = DefaultWidth, int height = DefaultHeight)
    {
        using var file = File.Create(path);
        WritePng(file, width, height);
    }

    private static double Spread(BandPoint p) => double.IsFinite(p.Spread) ? p.Spread : 0;

    private static LinearAxis Axis(AxisPosition position, string axisTitle) => new()
    {
        Position = position,
        Title = axisTitle,
        TitleFontSize = 14,
        MajorGridlineStyle = LineStyle.Solid,
        MajorGridlineColor = OxyColor.FromRgb(225, 225, 225),
        MinorGridlineStyle = LineStyle.None,
        TickStyle = TickStyle.Outside,
        AxisTitleDistance = 8,
        // The x axis starts at time 0; the y axis fits the data with a little room.
        Minimum = position == AxisPosition.Bottom ? 0 : double.NaN,
        MinimumPadding = position == AxisPosition.Bottom ? 0 : 0.04,
        MaximumPadding = position == AxisPosition.Bottom ? 0.01 : 0.04,
    };
}
