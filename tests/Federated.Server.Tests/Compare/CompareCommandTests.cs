using System.Text.Json;
using Federated.Simulations.Commands;
using Federated.Simulations.Compare;
using Federated.Simulations.Plotting;
using SkiaSharp;

namespace Federated.Server.Tests.Compare;

/// <summary>`federated compare` end to end through the command line: its files, their columns, and that a seed fixes the result.</summary>
[Collection("console")]
public sealed class CompareCommandTests : IDisposable
{
    private static readonly string[] Tiny =
    [
        "compare", "--clients", "3", "--schedulers", "fedcompass,synchronous", "--strategies", "stacking", "--seeds", "5",
        "--ranks", "2,4", "--min-steps", "1", "--max-steps", "3", "--virtual-time", "25", "--examples-per-client", "16",
        "--eval-examples", "16", "--batch-size", "4", "--target-accuracy", "0.2",
    ];

    private readonly TemporaryDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Cost_model_run_writes_every_file_and_repeats_exactly()
    {
        Assert.Equal(0, await Cli([.. Tiny, "--cost-model", "--out", _folder["a"]]));
        Assert.Equal(0, await Cli([.. Tiny, "--cost-model", "--out", _folder["b"]]));

        var rows = CheckFiles(_folder["a"], "cost model");
        Assert.All(rows, r => Assert.Contains("cost model", r[3], StringComparison.Ordinal));
        AssertSameResults(_folder["a"], _folder["b"]);
    }

    [Fact]
    public async Task Real_training_run_writes_every_file_learns_something_and_repeats_exactly()
    {
        Assert.Equal(0, await Cli([.. Tiny, "--out", _folder["a"]]));
        Assert.Equal(0, await Cli([.. Tiny, "--out", _folder["b"]]));

        var rows = CheckFiles(_folder["a"], "real LoRA training on builtin:tiny");
        foreach (var scheduler in new[] { "fedcompass", "synchronous" })
        {
            var mine = rows.Where(r => r[0] == scheduler).ToList();
            Assert.Equal("0", mine[0][5]); // version 0: the base model
            Assert.True(mine.Count >= 2, $"{scheduler} aggregated nothing in the budget");
            Assert.NotEqual(mine[0][6], mine[^1][6]); // training moved the held-out loss
            Assert.True(long.Parse(mine[^1][9]) > 0, "bytes moved");
        }
        AssertSameResults(_folder["a"], _folder["b"]);
    }

    [Fact]
    public async Task Bad_options_exit_with_2_and_write_nothing()
    {
        Assert.Equal(2, await Cli([.. With("--schedulers", "fedcompass,roundrobin"), "--out", _folder["x"]]));
        Assert.Equal(2, await Cli([.. With("--strategies", "mean"), "--out", _folder["x"]]));
        Assert.Equal(2, await Cli([.. With("--seeds", "1,x"), "--out", _folder["x"]]));
        Assert.Equal(2, await Cli([.. Tiny, "--speed", "trace", "--out", _folder["x"]]));
        File.WriteAllText(_folder["trace.csv"], "1.0, 2.0\n3.0, -1\n");
        Assert.Equal(2, await Cli([.. Tiny, "--speed", "trace", "--trace", _folder["trace.csv"], "--out", _folder["x"]]));
        Assert.Equal(2, await Cli([.. Tiny, "--threads", "0", "--out", _folder["x"]]));
        Assert.False(Directory.Exists(_folder["x"]));
    }

    [Fact]
    public void Problems_name_the_option_and_a_trace_file_names_its_line()
    {
        var problems = new CompareSettings { Clients = 0, Alpha = -1, Spread = 0.5, MaxSteps = 1, MinSteps = 2 }.Problems().ToList();
        Assert.Contains(problems, p => p.StartsWith("--clients", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("--alpha", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("--spread", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("--max-steps", StringComparison.Ordinal));
        File.WriteAllText(_folder["trace.csv"], "# seconds per step\n1.0, 2.0\n3.0, abc\n");
        var error = Assert.Throws<ArgumentException>(() => new CompareSettings { Speed = "trace", TraceFile = _folder["trace.csv"] }.SpeedModel());
        Assert.Contains("line 3", error.Message);
        Assert.Contains("'abc'", error.Message);
    }

    [Fact]
    public void Summary_times_the_first_crossing_and_pairs_ratios_by_seed()
    {
        static RunResult Run(string scheduler, ulong seed, params (double T, double Acc)[] points)
            => new(scheduler, "stacking", seed, points.Select((p, i) => new EvaluationPoint(p.T, i, 1, p.Acc, 0, 10, 1, 0)).ToList(), points[^1].T, points.Length - 1, 1, 0.5, 10);
        var settings = new CompareSettings { Schedulers = ["synchronous", "fedcompass"], Seeds = [1, 2], TargetAccuracy = 0.5 };
        var runs = new[]
        {
            Run("synchronous", 1, (0, 0), (100, 0.6)),
            Run("synchronous", 2, (0, 0), (50, 0.4), (200, 0.5)),
            Run("fedcompass", 1, (0, 0), (30, 0.55), (60, 0.4)),
            Run("fedcompass", 2, (0, 0), (40, 0.3)),
        };
        var summary = ComparisonResult.Summarise(settings, runs);

        var sync = summary.Single(r => r.Scheduler == "synchronous");
        Assert.Equal((2, 2), (sync.Runs, sync.Reached));
        Assert.Equal(150, sync.TimeToTarget!.Mean, 9);
        Assert.Equal(Math.Sqrt(5000), sync.TimeToTarget.Spread, 9);
        var compass = summary.Single(r => r.Scheduler == "fedcompass");
        Assert.Equal(1, compass.Reached);
        Assert.Equal(0.3, compass.TimeRatioToSynchronous!.Mean, 9); // seed 1 only: 30 / 100
        Assert.Equal(0.35, compass.FinalAccuracy.Mean, 9); // final, not best: (0.4 + 0.3) / 2
    }

    /// <summary>The tiny configuration with one option's value replaced.</summary>
    private static string[] With(string option, string value)
    {
        var args = Tiny.ToArray();
        args[Array.IndexOf(args, option) + 1] = value;
        return args;
    }

    private static Task<int> Cli(string[] args) => FederatedCli.Create().Parse(args).InvokeAsync();

    /// <summary>Checks that every file is there and well formed; returns the CSV's data rows.</summary>
    private static List<string[]> CheckFiles(string folder, string training)
    {
        var lines = File.ReadAllLines(Path.Combine(folder, ComparisonReport.CsvFile));
        Assert.Equal(string.Join(',', ComparisonReport.CsvColumns), lines[0]);
        Assert.Equal(
            ["scheduler", "strategy", "seed", "training", "virtual_time_s", "version", "loss", "token_accuracy", "exact_match", "bytes_moved", "updates", "mean_staleness"],
            ComparisonReport.CsvColumns);
        var rows = lines.Skip(1).Select(SplitCsv).ToList();
        Assert.All(rows, r => Assert.Equal(ComparisonReport.CsvColumns.Count, r.Length));
        Assert.Equal(["fedcompass", "synchronous"], rows.Select(r => r[0]).Distinct().Order());
        Assert.All(rows, r => Assert.Equal(("stacking", "5"), (r[1], r[2])));

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, ComparisonReport.JsonFile)));
        Assert.Equal(2, json.RootElement.GetProperty("runs").GetArrayLength());
        Assert.Equal(2, json.RootElement.GetProperty("summary").GetArrayLength());
        Assert.StartsWith(training, json.RootElement.GetProperty("training").GetString(), StringComparison.Ordinal);
        Assert.Equal(rows.Count, json.RootElement.GetProperty("runs").EnumerateArray().Sum(r => r.GetProperty("points").GetArrayLength()));

        foreach (var plot in new[] { ComparisonReport.LossPlot, ComparisonReport.AccuracyPlot })
        {
            using var png = SKBitmap.Decode(Path.Combine(folder, plot));
            Assert.NotNull(png);
            Assert.Equal((BandChart.DefaultWidth, BandChart.DefaultHeight), (png.Width, png.Height));
        }

        var summary = File.ReadAllText(Path.Combine(folder, ComparisonReport.SummaryFile));
        Assert.Contains("| Scheduler | Strategy | Reached target | Time to target (s) |", summary);
        Assert.Contains("| fedcompass | stacking |", summary);
        Assert.Contains("| synchronous | stacking |", summary);
        Assert.Contains(training, summary);
        return rows;
    }

    private static void AssertSameResults(string first, string second)
    {
        foreach (var file in new[] { ComparisonReport.CsvFile, ComparisonReport.JsonFile, ComparisonReport.SummaryFile, ComparisonReport.LossPlot })
            Assert.True(File.ReadAllBytes(Path.Combine(first, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(second, file))), $"{file} differs between two runs with the same seed");
    }

    /// <summary>Splits a CSV line whose only quoted field has no embedded quotes or commas inside other fields.</summary>
    private static string[] SplitCsv(string line)
    {
        var fields = new List<string>();
        var at = 0;
        while (at <= line.Length)
        {
            if (at < line.Length && line[at] == '"')
            {
                var close = line.IndexOf('"', at + 1);
                fields.Add(line[(at + 1)..close]);
                at = close + 2;
            }
            else
            {
                var comma = line.IndexOf(',', at);
                var end = comma < 0 ? line.Length : comma;
                fields.Add(line[at..end]);
                at = end + 1;
            }
        }
        return fields.ToArray();
    }
}
