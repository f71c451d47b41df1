using System.CommandLine;
using Federated.Core.Data;
using Spectre.Console;

namespace Federated.Simulations.Commands;

/// <summary>`federated data …`: make datasets for clients.</summary>
public static class DataCommands
{
    public static Command Create() => new("data", "Make datasets for client daemons") { SyntheticCommand(), PartitionCommand() };

    private static Command PartitionCommand()
    {
        var path = new Argument<string>("PATH") { Description = "A JSONL file or folder (prompt/completion, Alpaca, Dolly, chat or text)" };
        var clients = new Option<int>("--clients") { Description = "Client shards to write", DefaultValueFactory = _ => 3 };
        var partition = new Option<PartitionScheme>("--partition") { Description = "iid, dirichlet (label skew over the records' \"category\") or quantity (size skew)", DefaultValueFactory = _ => PartitionScheme.Iid };
        var alpha = new Option<double>("--alpha") { Description = "Dirichlet concentration (smaller: more skewed)", DefaultValueFactory = _ => 0.5 };
        var seed = new Option<ulong>("--seed") { Description = "Seed", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "Folder to write shard-N/train.jsonl into", Required = true };
        var command = new Command("partition", "Split a JSONL dataset into client shards (IID, Dirichlet label skew or quantity skew)") { path, clients, partition, alpha, seed, output };
        command.SetAction(parse =>
        {
            var folder = parse.GetValue(output)!;
            try
            {
                var examples = JsonlExamples.LoadPath(parse.GetValue(path)!);
                var shards = ExampleShards.Partition(examples, parse.GetValue(partition), parse.GetValue(clients), parse.GetValue(alpha), parse.GetValue(seed));
                ExampleShards.Write(shards, i => Path.Combine(folder, $"shard-{i + 1}"));
                AnsiConsole.MarkupLine($"Wrote {shards.Count} shards of {string.Join(", ", shards.Select(s => s.Count))} examples to {Markup.Escape(Path.GetFullPath(folder))}");
                return 0;
            }
            catch (Exception e) when (e is DataFormatException or ArgumentException)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
        });
        return command;
    }

    private static Command SyntheticCommand()
    {
        var shards = new Option<int>("--shards") { Description = "Client shards to write", DefaultValueFactory = _ => 3 };
        var examples = new Option<int>("--examples") { Description = "Training examples per shard", DefaultValueFactory = _ => 600 };
        var test = new Option<int>("--test-examples") { Description = "Held-out examples (written to test.jsonl)", DefaultValueFactory = _ => 300 };
        var seed = new Option<ulong>("--seed") { Description = "Seed", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "Folder to write shard-N/train.jsonl and test.jsonl into", Required = true };
        var command = new Command("synthetic", "Write IID shards of the built-in task (skills with exact answers) as JSONL") { shards, examples, test, seed, output };
        command.SetAction(parse =>
        {
            int count = parse.GetValue(shards), perShard = parse.GetValue(examples), held = parse.GetValue(test);
            if (count < 1 || perShard < 1 || held < 0)
            {
                AnsiConsole.MarkupLine("[red]--shards and --examples must be at least 1, --test-examples at least 0[/]");
                return 2;
            }
            var folder = parse.GetValue(output)!;
            SyntheticShards.Write(count, perShard, parse.GetValue(seed), i => Path.Combine(folder, $"shard-{i + 1}"));
            if (held > 0)
                JsonlExamples.Write(Path.Combine(folder, "test.jsonl"), SyntheticSkills.Generate(held, parse.GetValue(seed), DataSplit.Test));
            AnsiConsole.MarkupLine($"Wrote {count} shards of {perShard} examples{(held > 0 ? $" and {held} held-out examples" : "")} to {Markup.Escape(Path.GetFullPath(folder))}");
            return 0;
        });
        return command;
    }
}
