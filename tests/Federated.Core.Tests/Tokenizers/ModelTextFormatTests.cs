using System.Text.Json.Nodes;
using Federated.Core.Checkpoints;
using Federated.Core.Data;
using Federated.Core.Generation;
using Federated.Core.Model;
using Federated.Core.Tokenizers;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Tokenizers;

public sealed class ModelTextFormatTests : IDisposable
{
    private const string ChatMlTemplate = "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    private readonly TokenizerFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Built_in_models_keep_the_byte_tokens_and_raw_layout()
    {
        var format = ModelCatalog.TextFormat(BuiltinModels.Tiny);
        Assert.Same(ByteTokenizer.Instance, format.Tokenizer);
        Assert.Equal(ChatFormat.Raw, format.Format);
        var examples = SyntheticSkills.Generate(20, 3, DataSplit.Train);
        var expected = TokenizedExample.FromAll(examples, 64);
        var actual = format.TokenizeAll(examples, 64);
        Assert.Equal(expected.Select(e => (string.Join(",", e.Tokens), e.PromptLength)), actual.Select(e => (string.Join(",", e.Tokens), e.PromptLength)));
        Assert.Equal([ByteTokenizer.Bos, 'a', '=', 'b', ByteTokenizer.Eos], format.Tokenize(new TextExample("a=", "b"), 64).Tokens);
    }

    [Fact]
    public void A_Hugging_Face_directory_gives_its_tokenizer_and_chat_template()
    {
        WriteModel(vocabSize: 303);
        _files.Write(TokenizerFiles.ByteLevel(), new JsonObject { ["eos_token"] = "<|im_end|>", ["chat_template"] = ChatMlTemplate });

        var format = ModelCatalog.TextFormat(_files.Folder);

        Assert.IsType<HuggingFaceTokenizer>(format.Tokenizer);
        Assert.Equal(ChatFormat.Template, format.Format);
        Assert.Contains("the model's chat_template", format.Description);
        var example = format.Tokenize(new TextExample("hi", "hello world"), 64);
        int[] expected = [301, .. "user\nhi".Select(c => (int)c), 302, '\n', 301, .. "assistant\n".Select(c => (int)c), 258, 'o', 261, 'l', 'd', 302];
        Assert.Equal(expected, example.Tokens);
        Assert.Equal(expected.Length - 6, example.PromptLength);
    }

    [Fact]
    public void A_directory_without_a_template_falls_back_to_the_plain_layout()
    {
        WriteModel(vocabSize: 303);
        _files.Write(TokenizerFiles.ByteLevel(), new JsonObject { ["eos_token"] = "<|endoftext|>" });
        Assert.Equal(ChatFormat.Plain, ModelCatalog.TextFormat(_files.Folder).Format);
    }

    [Fact]
    public void A_directory_without_tokenizer_json_is_refused_naming_the_file()
    {
        WriteModel(vocabSize: 303);
        var message = Assert.Throws<ArgumentException>(() => ModelCatalog.TextFormat(_files.Folder)).Message;
        Assert.Contains($"base model '{_files.Folder}'", message);
        Assert.Contains("has no tokenizer.json", message);
    }

    [Fact]
    public void A_tokenizer_with_more_ids_than_the_embedding_is_refused()
    {
        WriteModel(vocabSize: 280);
        _files.Write(TokenizerFiles.ByteLevel(), new JsonObject { ["eos_token"] = "<|im_end|>" });
        var message = Assert.Throws<ArgumentException>(() => ModelCatalog.TextFormat(_files.Folder)).Message;
        Assert.Contains("tokenizer has 303 ids", message);
        Assert.Contains("only 280 rows", message);
    }

    [Fact]
    public void A_broken_tokenizer_is_refused_naming_the_reference_and_the_field()
    {
        WriteModel(vocabSize: 303);
        _files.Write(TokenizerFiles.ByteLevel(), new JsonObject { ["eos_token"] = "<|nope|>" });
        var message = Assert.Throws<ArgumentException>(() => ModelCatalog.TextFormat(_files.Folder)).Message;
        Assert.Contains($"base model '{_files.Folder}'", message);
        Assert.Contains("eos_token", message);
    }

    [Fact]
    public void A_llama2c_file_has_no_tokenizer_and_says_how_to_give_it_one()
    {
        var message = Assert.Throws<ArgumentException>(() => ModelCatalog.TextFormat(TestModels.Stories260K)).Message;
        Assert.Contains(TestModels.Stories260K, message);
        Assert.Contains("llama2.c checkpoint, which carries no tokenizer", message);
        Assert.Contains("give the model a tokenizer.json", message);
    }

    [Fact]
    public void Generation_takes_a_text_prompt_through_the_directory_tokenizer_and_prints_text()
    {
        WriteModel(vocabSize: 303);
        _files.Write(TokenizerFiles.ByteLevel(), new JsonObject { ["eos_token"] = "<|im_end|>", ["chat_template"] = ChatMlTemplate });
        var output = new StringWriter();

        var ids = ModelGeneration.Run(new GenerationRequest { Model = _files.Folder, Prompt = "hello world", MaxTokens = 3, Temperature = 0 }, output, TextWriter.Null);

        using var model = ModelCatalog.Load(_files.Folder, CPU);
        Assert.Equal(TokenGenerator.Generate(model, [258, 'o', 261, 'l', 'd'], 3, temperature: 0), ids);
        Assert.StartsWith("hello world", output.ToString());
    }

    private void WriteModel(int vocabSize)
    {
        var config = BuiltinModels.Config(BuiltinModels.Tiny) with { VocabSize = vocabSize, BosTokenId = null, EosTokenIds = [] };
        using var model = BuiltinModels.Create(config, "text-format-test", CPU);
        HuggingFaceCheckpoint.Save(model, _files.Folder);
    }
}
