using System.CommandLine;
using System.Globalization;
using Federated.Core.Adapters;
using Federated.Core.Adapters.Peft;
using Federated.Core.Aggregation;
using Federated.Core.Tensors;
using Spectre.Console;

namespace Federated.Simulations.Commands;

/// <summary>`federated adapters …`: stack, compact and compare PEFT LoRA adapter directories.</summary>
public static class AdapterCommands
{
    public static Command Create() => new("adapters", "Work on PEFT LoRA adapter directories (adapter_config.json + adapter_model.safetensors)")
    {
        StackCommand(),
        CompactCommand(),
        DiffCommand(),
        MergeCommand(),
    };

    private static Command MergeCommand()
    {
        var input = new Argument<string>("DIR") { Description = "Adapter directory" };
        var baseModel = new Option<string>("--base") { Description = "Base model: a Hugging Face directory, a llama2.c .bin or builtin:tiny", Required = true };
        var output = new Option<string>("--out") { Description = "Directory to write the merged model to (config.json + model.safetensors)", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "f32 or bf16", DefaultValueFactory = _ => "f32" };
        var command = new Command("merge", "Merge an adapter into its base model's weights and save the merged model") { input, baseModel, output, dtype };
        command.SetAction((parse, cancellationToken) => Run(async () =>
        {
            var type = parse.GetValue(dtype) switch
            {
                "f32" => TensorDType.F32,
                "bf16" => TensorDType.BF16,
                var other => throw new ArgumentException($"--dtype must be f32 or bf16, got '{other}'"),
            };
            var modules = await AdapterTools.MergeAsync(parse.GetValue(input)!, parse.GetValue(baseModel)!, parse.GetValue(output)!, type, cancellationToken);
            AnsiConsole.MarkupLine($"Merged {modules} modules into {Markup.Escape(parse.GetValue(baseModel)!)} → {Markup.Escape(parse.GetValue(output)!)}");
        }));
        return command;
    }

    private static Command StackCommand()
    {
        var inputs = new Argument<string[]>("DIR") { Description = "Adapter directories", Arity = ArgumentArity.OneOrMore };
        var weights = new Option<string?>("--weights") { Description = "Weights, comma-separated, one per adapter (normalised to sum 1; default equal)" };
        var output = new Option<string>("--out") { Description = "Directory to write the stacked adapter to", Required = true };
        var command = new Command("stack", "Stack adapters exactly (any mix of ranks): the result applies Σ p_k s_k B_k A_k") { inputs, weights, output };
        command.SetAction((parse, cancellationToken) => Run(async () =>
        {
            var directories = parse.GetValue(inputs)!;
            var parsed = ParseWeights(parse.GetValue(weights));
            var stacked = await AdapterTools.StackAsync(directories, parsed, parse.GetValue(output)!, cancellationToken);
            AnsiConsole.MarkupLine($"Stacked {directories.Length} adapters into rank {stacked.Rank} over {stacked.ModuleNames.Count} modules → {Markup.Escape(parse.GetValue(output)!)}");
        }));
        return command;
    }

    private static Command CompactCommand()
    {
        var inputs = new Argument<string[]>("DIR") { Description = "Adapter directories whose updates are summed (e.g. the global updates of several rounds)", Arity = ArgumentArity.OneOrMore };
        var budget = new Option<int>("--rank-budget") { Description = "Most rank to keep per module (0: keep what is needed to be exact)", DefaultValueFactory = _ => 0 };
        var tolerance = new Option<double>("--tolerance") { Description = "Drop singular values below this fraction of the largest", DefaultValueFactory = _ => CompactionOptions.Exact.Tolerance };
        var output = new Option<string>("--out") { Description = "Directory to write the compacted adapter to", Required = true };
        var command = new Command("compact", "Re-factorise the sum of adapters into one adapter of the smallest rank (QR + SVD), reporting the error") { inputs, budget, tolerance, output };
        command.SetAction((parse, cancellationToken) => Run(async () =>
        {
            var result = await AdapterTools.CompactAsync(parse.GetValue(inputs)!, new CompactionOptions(parse.GetValue(budget), parse.GetValue(tolerance)), parse.GetValue(output)!, cancellationToken);
            var table = new Table().AddColumns("Module", "Rank in", "Rank out", "Relative error");
            foreach (var module in result.Modules)
                table.AddRow(Markup.Escape(module.Module), module.InputRank.ToString(CultureInfo.InvariantCulture), module.OutputRank.ToString(CultureInfo.InvariantCulture), module.RelativeError.ToString("E2", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"Rank {result.InputRank} → {result.OutputRank}; largest relative error {result.MaxRelativeError:E2} → {Markup.Escape(parse.GetValue(output)!)}");
        }));
        return command;
    }

    private static Command DiffCommand()
    {
        var first = new Argument<string>("DIR_A") { Description = "An adapter directory" };
        var second = new Argument<string>("DIR_B") { Description = "The adapter directory to compare against" };
        var command = new Command("diff", "Relative Frobenius error ‖ΔW_A − ΔW_B‖ / ‖ΔW_B‖ of the updates, per module") { first, second };
        command.SetAction((parse, cancellationToken) => Run(async () =>
        {
            var differences = await AdapterTools.DiffAsync(parse.GetValue(first)!, parse.GetValue(second)!, cancellationToken);
            var table = new Table().AddColumns("Module", "‖ΔW_A‖", "‖ΔW_B‖", "Relative error");
            foreach (var d in differences)
                table.AddRow(Markup.Escape(d.Module), d.NormA.ToString("G4", CultureInfo.InvariantCulture), d.NormB.ToString("G4", CultureInfo.InvariantCulture), d.RelativeError.ToString("E3", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"Largest relative error: {differences.Max(d => d.RelativeError):E3}");
        }));
        return command;
    }

    private static double[]? ParseWeights(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        return text.Split(',').Select(part => double.TryParse(part.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var w) && double.IsFinite(w) && w > 0
            ? w
            : throw new ArgumentException($"--weights: '{part.Trim()}' is not a positive number")).ToArray();
    }

    /// <summary>Runs a verb, turning the errors a user can fix into one red line and exit code 2.</summary>
    private static async Task<int> Run(Func<Task> action)
    {
        try
        {
            await action();
            return 0;
        }
        catch (Exception e) when (e is AdapterFormatException or ArgumentException or IOException or Core.Checkpoints.CheckpointFormatException)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            return 2;
        }
    }
}
