using Federated.Simulations.Commands;

namespace Federated.Server.Tests.Cli;

/// <summary>
/// `federated model tokenize|chat` through the command-line parser: the arguments reach the handlers (whose output
/// is checked against the transformers.js references in Federated.Core.Tests) and errors exit with 2.
/// </summary>
[Collection("console")]
public sealed class ModelTextCommandTests : IDisposable
{
    private readonly TemporaryDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Tokenize_and_chat_print_one_json_line_per_input_line()
    {
        var model = TokenizerFolder("llama3_1");
        File.WriteAllLines(_folder["texts.jsonl"], ["{\"text\": \"Hello world\"}"]);
        File.WriteAllLines(_folder["chats.jsonl"], ["{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}"]);

        Assert.Equal((0, "[9906,1917]\n"), await Cli("model", "tokenize", model, "--file", _folder["texts.jsonl"]));
        Assert.Equal((0, "[128000,9906,1917]\n"), await Cli("model", "tokenize", model, "--file", _folder["texts.jsonl"], "--special"));
        const string Header = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\\n\\nHi<|eot_id|>";
        Assert.Equal((0, $"\"{Header}\"\n"), await Cli("model", "chat", model, "--file", _folder["chats.jsonl"]));
        Assert.Equal((0, $"\"{Header}<|start_header_id|>assistant<|end_header_id|>\\n\\n\"\n"), await Cli("model", "chat", model, "--file", _folder["chats.jsonl"], "--generation-prompt"));
        Assert.Equal((0, "[128000,128006,882,128007,271,13347,128009]\n"), await Cli("model", "chat", model, "--file", _folder["chats.jsonl"], "--ids"));
    }

    [Fact]
    public async Task Missing_files_and_bad_lines_exit_with_2()
    {
        var model = TokenizerFolder("llama3_1");
        File.WriteAllLines(_folder["bad.jsonl"], ["{\"text\": \"ok\"}", "{oops"]);
        Assert.Equal(2, (await Cli("model", "tokenize", model, "--file", _folder["missing.jsonl"])).Exit);
        Assert.Equal(2, (await Cli("model", "tokenize", model, "--file", _folder["bad.jsonl"])).Exit);
        Assert.Equal(2, (await Cli("model", "chat", _folder["no-model"], "--file", _folder["bad.jsonl"])).Exit);
        Assert.Equal(2, (await Cli("model", "chat", TokenizerFolder("llama2"), "--file", _folder["bad.jsonl"])).Exit);
    }

    private static async Task<(int Exit, string Output)> Cli(params string[] args)
    {
        // The invocation's own writers, not Console.SetOut: a process-wide swap would catch other tests' output
        // and could leave Spectre's console (created once, on the writer of the moment) on a disposed writer.
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter();
        var exit = await FederatedCli.Create().Parse(args).InvokeAsync(new() { Output = output, Error = error });
        return (exit, output.ToString());
    }

    private static string TokenizerFolder(string family)
    {
        // The tests run from tests/Federated.Server.Tests/bin/<configuration>/net10.0; shared/ is beside the repository.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "..", "shared", "tokenizers", family);
            if (File.Exists(Path.Combine(candidate, "tokenizer.json")))
                return Path.GetFullPath(candidate);
        }
        throw new DirectoryNotFoundException($"../shared/tokenizers/{family} was not found above {AppContext.BaseDirectory}");
    }
}
