using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Federated.Core.Scheduling;
using Federated.Simulations.Plotting;

namespace Federated.Simulations.Compare;

/// <summary>
/// Writes a comparison into a folder: results.csv (one row per evaluation), results.json (settings, runs and
/// summary), loss.png and accuracy.png (held-out metric against virtual time, one line per scheduler × strategy:
/// the mean over seeds, with a ± sd band when there are several) and summary.md (the table the issue asks for).
/// </summary>
public static class ComparisonReport
{
    public const string CsvFile = "results.csv";
    public const string JsonFile = "results.json";
    public const string LossPlot = "loss.png";
    public const string AccuracyPlot = "accuracy.png";
    public const string SummaryFile = "summary.md";

    public static IReadOnlyList<string> CsvColumns { get; } =
    [
        "scheduler", "strategy", "seed", "training", "virtual_time_s", "version", "loss", "token_accuracy", "exact_match",
        "bytes_moved", "updates", "mean_staleness",
    ];

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes every file; returns their paths.</summary>
    public static IReadOnlyList<string> Write(ComparisonResult result, string folder)
    {
        Directory.CreateDirectory(folder);
        var paths = new[] { CsvFile, JsonFile, LossPlot, AccuracyPlot, SummaryFile }.Select(f => Path.Combine(folder, f)).ToArray();
        File.WriteAllText(paths[0], Csv(result));
        File.WriteAllText(paths[1], JsonSerializer.Serialize(result, Json));
        Plot(result, "Held-out loss", "loss (nats per token)", p => p.Loss).Save(paths[2]);
        Plot(result, "Held-out token accuracy", "token accuracy (fraction of tokens)", p => p.TokenAccuracy).Save(paths[3]);
        File.WriteAllText(paths[4], Markdown(result));
        return paths;
    }

    public static string Csv(ComparisonResult result)
    {
        var text = new StringBuilder().AppendLine(string.Join(',', CsvColumns));
        var training = Quote(result.Training);
        foreach (var run in result.Runs)
        {
            foreach (var p in run.Points)
            {
                text.AppendLine(string.Join(',',
                    run.Scheduler, run.Strategy, run.Seed.ToString(CultureInfo.InvariantCulture), training,
                    F(p.VirtualTime), p.Version.ToString(CultureInfo.InvariantCulture), F(p.Loss), F(p.TokenAccuracy), F(p.ExactMatch),
                    p.BytesMoved.ToString(CultureInfo.InvariantCulture), p.Updates.ToString(CultureInfo.InvariantCulture), F(p.MeanStaleness)));
            }
        }
        return text.ToString();
    }

    public static string Markdown(ComparisonResult result)
    {
        var s = result.Settings;
        var text = new StringBuilder();
        text.AppendLine("# federated compare");
        text.AppendLine();
        text.AppendLine($"- Training: {result.Training}.");
        text.AppendLine($"- {s.Clients} clients; speeds {s.Speed}, spread {F(s.Spread)}×, fastest {F(s.FastestSecondsPerStep)} s/step; Dirichlet α = {F(s.Alpha)} over skills; ranks {string.Join(", ", s.Ranks)}; seeds {string.Join(", ", s.Seeds)}.");
        text.AppendLine($"- Steps: FedCompass Q_min = {s.MinSteps}, Q_max = {s.MaxSteps}; the others {s.MaxSteps} per task; FedBuff K = {s.EffectiveBufferSize}; synchronous rounds wait for all {s.Clients} clients; asynchronous updates weighted by {UpdateWeightings.Name(s.Weighting)} share.");
        text.AppendLine($"- Budget: {(result.VirtualTimeBudget is { } b ? $"{F(b)} s of virtual time" : "")}{(s.Aggregations is { } n ? $"{(result.VirtualTimeBudget is null ? "" : ", or ")}{n} aggregations" : "")} per run.");
        text.AppendLine($"- Target: held-out token accuracy ≥ {F(s.TargetAccuracy)}. Figures are mean ± sample standard deviation over seeds; time to target over the seeds that reached it; × synchronous is paired by seed.");
        text.AppendLine();
        text.AppendLine("| Scheduler | Strategy | Reached target | Time to target (s) | × synchronous | Final token accuracy | Final exact match | Final loss | Bytes moved | Mean staleness | Aggregations |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in result.Summary)
        {
            text.AppendLine($"| {row.Scheduler} | {row.Strategy} | {row.Reached}/{row.Runs} | {Pm(row.TimeToTarget, "F0")} | {Pm(row.TimeRatioToSynchronous, "F2")} | " +
                $"{Pm(row.FinalAccuracy, "F3")} | {Pm(row.FinalExactMatch, "F3")} | {Pm(row.FinalLoss, "F3")} | {Bytes(row.BytesMoved)} | {Pm(row.MeanStaleness, "F2")} | {Pm(row.Aggregations, "F0")} |");
        }
        return text.ToString();
    }

    /// <summary>
    /// One line per scheduler × strategy: the mean over seeds of each run's latest evaluation on a common time
    /// grid, over a band of ± one sample standard deviation when there are several seeds.
    /// </summary>
    private static BandChart Plot(ComparisonResult result, string title, string yTitle, Func<EvaluationPoint, double> metric)
    {
        var seeds = result.Runs.Select(r => r.Seed).Distinct().Count();
        var chart = new BandChart(title, "virtual wall time (s)", yTitle)
        {
            Subtitle = seeds > 1 ? $"line: mean over {seeds} seeds; band: ± 1 standard deviation" : "one seed",
        };
        var end = result.Runs.Count == 0 ? 1 : result.Runs.Max(r => r.Points[^1].VirtualTime);
        end = Math.Max(end, result.VirtualTimeBudget ?? 0);
        const int gridPoints = 200;
        foreach (var group in result.Runs.GroupBy(r => (r.Scheduler, r.Strategy)))
        {
            var points = new List<BandPoint>();
            for (int i = 0; i <= gridPoints; i++)
            {
                var t = end * i / gridPoints;
                var stat = Stat.Of(group.Select(run => metric(run.Points.LastOrDefault(p => p.VirtualTime <= t) ?? run.Points[0])))!;
                points.Add(new BandPoint(t, stat.Mean, stat.Spread));
            }
            chart.Series.Add(new BandSeries($"{group.Key.Scheduler}/{group.Key.Strategy}", points));
        }
        return chart;
    }

    private static string Pm(Stat? stat, string format)
        => stat is null ? "—" : $"{stat.Mean.ToString(format, CultureInfo.InvariantCulture)} ± {stat.Spread.ToString(format, CultureInfo.InvariantCulture)}";

    private static string Bytes(Stat stat) => $"{stat.Mean / 1e6:F1} ± {stat.Spread / 1e6:F1} MB";

    private static string F(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static string Quote(string text) => "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
