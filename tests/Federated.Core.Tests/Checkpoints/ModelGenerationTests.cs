using Federated.Core.Checkpoints;
using Federated.Core.Generation;
using Federated.Core.Model;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Checkpoints;

/// <summary>The logic behind `federated model generate`.</summary>
public class ModelGenerationTests
{
    [Fact]
    public void Ids_output_of_greedy_generation_on_stories260K_matches_the_reference()
    {
        var expected = new Llama2cReference(TestModels.Stories260K).Greedy(bos: 1, 40);
        var output = new StringWriter();
        var log = new StringWriter();
        ModelGeneration.Run(new GenerationRequest { Model = TestModels.Stories260K, PromptIds = "1", MaxTokens = 40, Temperature = 0, IdsOnly = true }, output, log);
        Assert.Equal(string.Join(' ', expected) + Environment.NewLine, output.ToString());
        Assert.Contains("generated", log.ToString());
    }

    [Fact]
    public void Greedy_ids_on_stories260K_equal_those_of_llama2c_run_c()
    {
        // Printed by llama2.c's run.c (karpathy/llama2.c at 350e04f, gcc -O2) with a stand-in 512-token
        // tokenizer whose piece i reads "[i] ":  ./run stories260K.bin -z fake_tok.bin -t 0 -n 41 -i ""
        int[] runC =
        [
            461, 461, 401, 401, 401, 461, 378, 455, 473, 456, 435, 299, 362, 409, 283, 264, 283, 452, 288, 13,
            431, 431, 431, 431, 431, 431, 431, 431, 431, 431, 431, 431, 431, 293, 430, 417, 363, 416, 315, 342,
        ];
        var output = new StringWriter();
        ModelGeneration.Run(new GenerationRequest { Model = TestModels.Stories260K, PromptIds = "1", MaxTokens = 40, Temperature = 0, IdsOnly = true }, output, TextWriter.Null);
        Assert.Equal(string.Join(' ', runC), output.ToString().Trim());
    }

    [Fact]
    public void Without_a_prompt_generation_starts_from_BOS()
    {
        var output = new StringWriter();
        ModelGeneration.Run(new GenerationRequest { Model = TestModels.Stories260K, MaxTokens = 12, Temperature = 0, IdsOnly = true }, output, TextWriter.Null);
        var expected = new Llama2cReference(TestModels.Stories260K).Greedy(bos: 1, 12);
        Assert.Equal(string.Join(' ', expected), output.ToString().Trim());
    }

    [Fact]
    public void A_prompt_continues_like_the_reference_fed_the_same_ids()
    {
        int[] prompt = [1, 403, 407];
        var reference = new Llama2cReference(TestModels.Stories260K);
        reference.Forward(prompt[0], 0);
        reference.Forward(prompt[1], 1);
        var logits = reference.Forward(prompt[2], 2);
        using var model = ModelCatalog.Load(TestModels.Stories260K, CPU);
        var generated = TokenGenerator.Generate(model, prompt, 1, temperature: 0);
        Assert.Equal([TokenGenerator.ArgMax(logits)], generated);
    }

    [Fact]
    public void Sampling_is_reproducible_from_its_seed()
    {
        using var model = ModelCatalog.Load(TestModels.Stories260K, CPU);
        var a = TokenGenerator.Generate(model, [1], 30, temperature: 1.0, seed: 7);
        var b = TokenGenerator.Generate(model, [1], 30, temperature: 1.0, seed: 7);
        var greedy = TokenGenerator.Generate(model, [1], 30, temperature: 0);
        Assert.Equal(a, b);
        Assert.NotEqual(greedy, a);
    }

    [Fact]
    public void A_text_prompt_on_a_model_without_tokenizer_asks_for_prompt_ids()
    {
        var request = new GenerationRequest { Model = TestModels.Stories260K, Prompt = "Once upon a time", MaxTokens = 5 };
        var error = Assert.Throws<ArgumentException>(() => ModelGeneration.Run(request, TextWriter.Null, TextWriter.Null)).Message;
        Assert.Contains("--prompt-ids", error);
        Assert.Contains("llama2.c", error);

        using var folder = new TemporaryFolder();
        using (var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU))
            HuggingFaceCheckpoint.Save(model, folder.Path);
        File.WriteAllText(Path.Combine(folder.Path, "tokenizer.json"), "{}");
        error = Assert.Throws<ArgumentException>(() => ModelGeneration.Run(request with { Model = folder.Path }, TextWriter.Null, TextWriter.Null)).Message;
        Assert.Contains($"{folder.Path}", error);
        Assert.Contains("tokenizer.json", error);
        Assert.Contains("--prompt-ids", error);
    }

    [Fact]
    public void Built_in_models_take_text_through_the_byte_tokenizer()
    {
        var output = new StringWriter();
        var ids = ModelGeneration.Run(new GenerationRequest { Model = BuiltinModels.Tiny, Prompt = "hi", MaxTokens = 4, Temperature = 0 }, output, TextWriter.Null);
        Assert.StartsWith("hi", output.ToString());
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        Assert.Equal(TokenGenerator.Generate(model, [256, 'h', 'i'], 4), ids);
    }

    [Theory]
    [InlineData("1,x,3", "'x' is not a token id")]
    [InlineData("1,-2", "'-2' is not a token id")]
    [InlineData("1,,2", "'' is not a token id")]
    public void Bad_prompt_ids_are_named(string ids, string expected)
        => Assert.Contains(expected, Assert.Throws<ArgumentException>(() => ModelGeneration.ParseIds(ids)).Message);

    [Fact]
    public void Prompt_ids_outside_the_vocabulary_are_refused()
    {
        var request = new GenerationRequest { Model = TestModels.Stories260K, PromptIds = "1, 600", MaxTokens = 3, Temperature = 0 };
        Assert.Contains("token id 600 is outside the model's vocabulary 0..511", Assert.Throws<ArgumentException>(() => ModelGeneration.Run(request, TextWriter.Null, TextWriter.Null)).Message);
    }
}
