using System.CommandLine;
using System.Globalization;
using Federated.Core.Checkpoints;
using Federated.Core.Generation;
using Federated.Core.Model;
using Federated.Core.Tensors;
using Federated.Core.Tokenizers;
using Spectre.Console;
using static TorchSharp.torch;

namespace Federated.Simulations.Commands;

/// <summary>
/// `federated model …`: inspect base models (built-in, Hugging Face directories, llama2.c files), sample from them,
/// and show how a directory's tokenizer and chat template turn data into ids.
/// </summary>
public static class ModelCommands
{
    public static Command Create() => new("model", "Inspect base models and generate from them") { InfoCommand(), GenerateCommand(), ConvertCommand(), TokenizeCommand(), ChatCommand() };

    private static Argument<string> ModelArgument() => new("model") { Description = "builtin:tiny|small, a Hugging Face model directory, or a llama2.c .bin file" };

    private static Command InfoCommand()
    {
        var model = ModelArgument();
        var command = new Command("info", "Show a model's format, architecture, dimensions, parameter count and dtype") { model };
        command.SetAction(parse =>
        {
            try
            {
                var info = ModelCatalog.Inspect(parse.GetValue(model)!);
                var c = info.Config;
                var table = new Table().HideHeaders().AddColumns("", "");
                void Row(string name, object? value) => table.AddRow(name, Markup.Escape(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "—"));
                Row("format", info.Format);
                Row("architecture", info.Architecture);
                Row("parameters", c.ParameterCount.ToString("N0", CultureInfo.InvariantCulture));
                Row("dtype", info.DType);
                Row("vocab_size", c.VocabSize);
                Row("hidden_size", c.HiddenSize);
                Row("intermediate_size", c.IntermediateSize);
                Row("num_hidden_layers", c.NumLayers);
                Row("num_attention_heads", c.NumHeads);
                Row("num_key_value_heads", c.NumKeyValueHeads);
                Row("head_dim", c.HeadDim);
                Row("max_position_embeddings", c.MaxPositionEmbeddings);
                Row("rms_norm_eps", c.RmsNormEps);
                Row("rope_theta", c.RopeTheta);
                Row("rope_scaling", c.RopeScaling is { } s ? $"llama3 (factor {s.Factor}, low {s.LowFreqFactor}, high {s.HighFreqFactor}, original {s.OriginalMaxPositionEmbeddings})" : "none");
                Row("tie_word_embeddings", c.TieWordEmbeddings);
                Row("attention_bias (q, k, v)", c.AttentionBias);
                Row("bos_token_id", c.BosTokenId);
                Row("eos_token_id", c.EosTokenIds.Count == 0 ? null : string.Join(",", c.EosTokenIds));
                Row("tokenizer", info.TokenizerFile ?? (info.Format == CheckpointFormat.Builtin ? "bytes" : "none"));
                AnsiConsole.Write(table);
                return 0;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
        });
        return command;
    }

    private static Command GenerateCommand()
    {
        var model = ModelArgument();
        var prompt = new Option<string?>("--prompt") { Description = "Prompt text, through the model's tokenizer (built-in byte tokenizer or the directory's tokenizer.json)" };
        var promptIds = new Option<string?>("--prompt-ids") { Description = "Prompt token ids, comma-separated, e.g. 1,2,3 (default: the model's BOS token)" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens to generate", Required = true };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature; 0 decodes greedily", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 0 };
        var ids = new Option<bool>("--ids") { Description = "Print only the generated token ids, space-separated, on one line" };
        var command = new Command("generate", "Generate tokens from a model (progress goes to stderr)") { model, prompt, promptIds, maxTokens, temperature, seed, ids };
        command.SetAction(parse =>
        {
            var request = new GenerationRequest
            {
                Model = parse.GetValue(model)!,
                Prompt = parse.GetValue(prompt),
                PromptIds = parse.GetValue(promptIds),
                MaxTokens = parse.GetValue(maxTokens),
                Temperature = parse.GetValue(temperature),
                Seed = parse.GetValue(seed),
                IdsOnly = parse.GetValue(ids),
            };
            try
            {
                ModelGeneration.Run(request, Console.Out, Console.Error);
                return 0;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
        });
        return command;
    }

    private static Command ConvertCommand()
    {
        var model = ModelArgument();
        var output = new Option<string>("--out") { Description = "Folder to write config.json and model.safetensors into", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "f32 or bf16", DefaultValueFactory = _ => "f32" };
        var command = new Command("convert", "Save any model (e.g. builtin:small or a llama2.c file) as a Hugging Face directory") { model, output, dtype };
        command.SetAction(parse =>
        {
            var type = parse.GetValue(dtype) switch
            {
                "f32" => TensorDType.F32,
                "bf16" => TensorDType.BF16,
                _ => (TensorDType?)null,
            };
            if (type is null)
            {
                Console.Error.WriteLine($"--dtype must be f32 or bf16, not '{parse.GetValue(dtype)}'");
                return 2;
            }
            try
            {
                using var loaded = ModelCatalog.Load(parse.GetValue(model)!, CPU);
                var folder = parse.GetValue(output)!;
                HuggingFaceCheckpoint.Save(loaded, folder, type.Value);
                AnsiConsole.MarkupLine($"Wrote {Markup.Escape(parse.GetValue(model)!)} as {type} to {Markup.Escape(Path.GetFullPath(folder))}");
                return 0;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
        });
        return command;
    }

    private static Argument<string> ModelDirectoryArgument() => new("model-dir") { Description = "A Hugging Face model directory holding tokenizer.json (and tokenizer_config.json)" };

    private static Option<string> FileOption(string lines) => new("--file") { Description = $"JSONL input, one {lines} per line", Required = true };

    private static Command TokenizeCommand()
    {
        var model = ModelDirectoryArgument();
        var file = FileOption("{\"text\": \"…\"}");
        var special = new Option<bool>("--special") { Description = "Add the special tokens the tokenizer's post-processor adds (add_special_tokens=True); without: as add_special_tokens=False" };
        var command = new Command("tokenize", "Print each line's token ids as a JSON array, as the Hugging Face tokenizer gives them") { model, file, special };
        command.SetAction(parse => Inspect(parse, parse.GetValue(model)!, (tokenizer, output) => ModelTextInspection.Tokenize(tokenizer, parse.GetValue(file)!, parse.GetValue(special), output)));
        return command;
    }

    private static Command ChatCommand()
    {
        var model = ModelDirectoryArgument();
        var file = FileOption("{\"messages\": [{\"role\", \"content\"}, …], \"tools\": […]?}");
        var generationPrompt = new Option<bool>("--generation-prompt") { Description = "End with the prompt for the assistant's next turn (add_generation_prompt=True)" };
        var ids = new Option<bool>("--ids") { Description = "Print the render's token ids as a JSON array instead of the text" };
        var command = new Command("chat", "Print each conversation rendered with the model's own chat template, as a JSON string, as apply_chat_template gives it") { model, file, generationPrompt, ids };
        command.SetAction(parse => Inspect(parse, parse.GetValue(model)!, (tokenizer, output) => ModelTextInspection.Chat(tokenizer, parse.GetValue(file)!, parse.GetValue(generationPrompt), parse.GetValue(ids), output)));
        return command;
    }

    /// <summary>Writes to the invocation's own output and error (the console unless a caller gives others, as tests do).</summary>
    private static int Inspect(ParseResult parse, string modelDirectory, Action<HuggingFaceTokenizer, TextWriter> print)
    {
        try
        {
            print(ModelTextInspection.LoadTokenizer(modelDirectory), parse.InvocationConfiguration.Output);
            return 0;
        }
        catch (ArgumentException e)
        {
            parse.InvocationConfiguration.Error.WriteLine(e.Message);
            return 2;
        }
    }
}
