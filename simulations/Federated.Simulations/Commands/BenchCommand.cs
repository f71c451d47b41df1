using System.CommandLine;
using Federated.Simulations.Bench;
using Spectre.Console;

namespace Federated.Simulations.Commands;

/// <summary>`federated bench`: speed and memory figures, each as a ratio to something measured in the same run.</summary>
public static class BenchCommand
{
    /// <summary>Every section, in the order they run.</summary>
    public static IReadOnlyList<IBenchSection> Sections { get; } =
    [
        new AggregationBench(),
        new TrainingBench(),
        new GenerationBench(),
        new CheckpointBench(),
        new SchedulingBench(),
        new DashboardBench(),
        new LoadBench(),
        new StateBench(),
        new ClusterBench(),
    ];

    public static Command Create()
    {
        var only = new Option<string[]>("--only") { Description = $"Sections to run: {string.Join(", ", Sections.Select(s => s.Name))} (default: all)", AllowMultipleArgumentsPerToken = true };
        var quick = new Option<bool>("--quick") { Description = "Smaller sizes for a fast look; the targets are stated for the full sizes" };
        var daemons = new Option<int>("--daemons") { Description = "load: fake daemons to run", DefaultValueFactory = _ => new LoadSettings().Daemons };
        var seconds = new Option<int>("--seconds") { Description = "load: how long the daemons run", DefaultValueFactory = _ => new LoadSettings().Seconds };
        var train = new Option<double>("--train-seconds") { Description = "load: how long a daemon holds a task before uploading", DefaultValueFactory = _ => new LoadSettings().TrainSeconds };
        var server = new Option<string?>("--server") { Description = "load: the coordinator to start (Federated.Server.dll or its apphost; default: the one next to this program)" };
        var command = new Command("bench", "Measure throughput and memory against this machine's own limits (matmul peak, memory bandwidth)") { only, quick, daemons, seconds, train, server };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var names = parse.GetValue(only) ?? [];
            var unknown = names.Where(n => Sections.All(s => s.Name != n)).ToList();
            if (unknown.Count > 0)
            {
                AnsiConsole.MarkupLine($"[red]--only: unknown section {Markup.Escape(string.Join(", ", unknown))}; choose from {string.Join(", ", Sections.Select(s => s.Name))}[/]");
                return 2;
            }
            if (parse.GetValue(daemons) < 1 || parse.GetValue(seconds) < 1 || parse.GetValue(train) < 0)
            {
                AnsiConsole.MarkupLine("[red]--daemons and --seconds must be at least 1, --train-seconds at least 0[/]");
                return 2;
            }
            Sections.OfType<LoadBench>().Single().Settings = new LoadSettings { Daemons = parse.GetValue(daemons), Seconds = parse.GetValue(seconds), TrainSeconds = parse.GetValue(train), ServerPath = parse.GetValue(server) };
            foreach (var section in Sections.Where(s => names.Length == 0 || names.Contains(s.Name)))
            {
                AnsiConsole.Write(new Rule($"[bold]{Markup.Escape(section.Name)}[/]: {Markup.Escape(section.Description)}").LeftJustified());
                await section.RunAsync(parse.GetValue(quick), cancellationToken);
                AnsiConsole.WriteLine();
            }
            return 0;
        });
        return command;
    }
}
