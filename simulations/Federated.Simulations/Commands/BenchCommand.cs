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
        new LoadBench(),
        new SchedulingBench(),
        new DashboardBench(),
    ];

    public static Command Create()
    {
        var only = new Option<string[]>("--only") { Description = $"Sections to run: {string.Join(", ", Sections.Select(s => s.Name))} (default: all)", AllowMultipleArgumentsPerToken = true };
        var quick = new Option<bool>("--quick") { Description = "Smaller sizes for a fast look; the targets are stated for the full sizes" };
        var command = new Command("bench", "Measure throughput and memory against this machine's own limits (matmul peak, memory bandwidth)") { only, quick };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var names = parse.GetValue(only) ?? [];
            var unknown = names.Where(n => Sections.All(s => s.Name != n)).ToList();
            if (unknown.Count > 0)
            {
                AnsiConsole.MarkupLine($"[red]--only: unknown section {Markup.Escape(string.Join(", ", unknown))}; choose from {string.Join(", ", Sections.Select(s => s.Name))}[/]");
                return 2;
            }
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
