using Federated.Core.Checkpoints;
using Federated.Core.Model;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Checkpoints;

public class ModelCatalogTests
{
    [Fact]
    public void Built_in_models_resolve_as_before()
    {
        var info = ModelCatalog.Inspect(BuiltinModels.Tiny);
        Assert.Equal(CheckpointFormat.Builtin, info.Format);
        Assert.Equal(BuiltinModels.Config(BuiltinModels.Tiny), ModelCatalog.Describe(BuiltinModels.Tiny));
        using var loaded = ModelCatalog.Load(BuiltinModels.Tiny, CPU);
        using var built = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        Assert.Equal(built.Fingerprint(), loaded.Fingerprint());
    }

    [Fact]
    public void A_Hugging_Face_directory_resolves_to_the_saved_model()
    {
        using var folder = new TemporaryFolder();
        using var model = BuiltinModels.Create(BuiltinModels.Small, CPU);
        HuggingFaceCheckpoint.Save(model, folder.Path);
        var info = ModelCatalog.Inspect(folder.Path);
        Assert.Equal((CheckpointFormat.HuggingFace, "LlamaForCausalLM", "F32"), (info.Format, info.Architecture, info.DType));
        Assert.Equal(model.Config, ModelCatalog.Describe(folder.Path));
        Assert.Equal(model.parameters().Sum(p => p.numel()), info.Config.ParameterCount);
        using var loaded = ModelCatalog.Load(folder.Path, CPU);
        Assert.Equal(model.Fingerprint(), loaded.Fingerprint());
    }

    [Fact]
    public void A_llama2c_file_resolves_and_its_fingerprint_covers_its_weights()
    {
        var info = ModelCatalog.Inspect(TestModels.Stories260K);
        Assert.Equal((CheckpointFormat.Llama2c, "F32"), (info.Format, info.DType));
        using var model = ModelCatalog.Load(TestModels.Stories260K, CPU);
        Assert.Equal(info.Config.ParameterCount, model.parameters().Sum(p => p.numel()));
        using var again = ModelCatalog.Load(TestModels.Stories260K, CPU);
        Assert.Equal(model.Fingerprint(), again.Fingerprint());
        using var tiny = ModelCatalog.Load(BuiltinModels.Tiny, CPU);
        Assert.NotEqual(tiny.Fingerprint(), model.Fingerprint());
    }

    [Fact]
    public void Unknown_references_and_bad_files_are_argument_errors_naming_the_reference()
    {
        var missing = Assert.Throws<ArgumentException>(() => ModelCatalog.Describe("/no/such/model.bin")).Message;
        Assert.Contains("'/no/such/model.bin' is not known", missing);
        Assert.Contains("builtin:tiny", missing);
        Assert.Contains("unknown built-in model 'builtin:huge'", Assert.Throws<ArgumentException>(() => ModelCatalog.Describe("builtin:huge")).Message);

        using var folder = new TemporaryFolder();
        var text = Path.Combine(folder.Path, "weights.pt");
        File.WriteAllText(text, "not a checkpoint");
        Assert.Contains("llama2.c checkpoint (.bin)", Assert.Throws<ArgumentException>(() => ModelCatalog.Load(text, CPU)).Message);
        var error = Assert.Throws<ArgumentException>(() => ModelCatalog.Describe(folder.Path)).Message;
        Assert.Contains($"base model '{folder.Path}'", error);
        Assert.Contains("config.json", error);
    }
}
