using Federated.Core.Adapters;
using Federated.Core.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Model;

public class LlamaForCausalLMTests
{
    private static Tensor Tokens() => tensor(new long[] { 256, 104, 105, 33, 10, 200, 3, 77 }, [2, 4]);

    [Fact]
    public void Forward_gives_logits_over_the_vocabulary_for_every_position()
    {
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        using var scope = NewDisposeScope();
        var logits = model.forward(Tokens());
        Assert.Equal([2L, 4L, model.Config.VocabSize], logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }

    [Fact]
    public void Parameters_carry_Hugging_Face_names()
    {
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("model.embed_tokens.weight", names);
        Assert.Contains("model.layers.1.self_attn.k_proj.weight", names);
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", names);
        Assert.Contains("model.layers.0.post_attention_layernorm.weight", names);
        Assert.Contains("model.norm.weight", names);
        Assert.DoesNotContain("lm_head.weight", names); // tied to the embeddings
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void Built_in_models_are_identical_wherever_they_are_built()
    {
        using var a = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        using var b = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        Assert.Equal(a.Fingerprint(), b.Fingerprint());
        using var other = BuiltinModels.Create(BuiltinModels.Small, CPU);
        Assert.NotEqual(a.Fingerprint(), other.Fingerprint());
    }

    [Fact]
    public void The_model_is_causal_later_tokens_do_not_change_earlier_logits()
    {
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        using var scope = NewDisposeScope();
        var first = model.forward(tensor(new long[] { 256, 1, 2, 3 }, [1, 4]));
        var second = model.forward(tensor(new long[] { 256, 1, 2, 99 }, [1, 4]));
        Assert.True(first.narrow(1, 0, 3).allclose(second.narrow(1, 0, 3), rtol: 1e-5, atol: 1e-5));
        Assert.False(first.narrow(1, 3, 1).allclose(second.narrow(1, 3, 1)));
    }

    [Fact]
    public void A_fresh_LoRA_branch_changes_nothing()
    {
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        using var scope = NewDisposeScope();
        var before = model.forward(Tokens());
        model.AttachLora(new LoraSettings(8, 16), TargetModules.All, seed: 3);
        Assert.Equal(2 * 7 * 2, model.LoraParameters().Count);
        Assert.True(before.allclose(model.forward(Tokens()), rtol: 0, atol: 0));
    }

    [Fact]
    public void Merging_an_exported_adapter_reproduces_the_LoRA_model()
    {
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        using var scope = NewDisposeScope();
        model.AttachLora(new LoraSettings(4, 12), ["q_proj", "v_proj", "down_proj"], seed: 5);
        using (no_grad())
        {
            foreach (var parameter in model.LoraParameters())
                parameter.copy_(randn(parameter.shape).mul_(0.05));
        }
        var withLora = model.forward(Tokens());
        var adapter = model.ExportLora();
        Assert.Equal(3.0, adapter.Scale);
        Assert.Equal(2 * 3, adapter.ModuleNames.Count);

        model.DetachLora();
        model.MergeAdapter(adapter);
        var merged = model.forward(Tokens());
        Assert.True(withLora.allclose(merged, rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void Merging_an_adapter_for_a_layer_the_model_lacks_is_refused_by_name()
    {
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        var adapter = new LoraAdapter([new("model.layers.7.self_attn.q_proj", new LoraFactors(new Matrix(1, 64), new Matrix(64, 1)))], 1);
        var error = Assert.Throws<AdapterFormatException>(() => model.MergeAdapter(adapter));
        Assert.Contains("model.layers.7.self_attn.q_proj", error.Message);
    }

    [Fact]
    public void Grouped_query_attention_shapes_follow_the_config()
    {
        var config = BuiltinModels.Config(BuiltinModels.Tiny);
        Assert.Equal((64, 32), config.LinearShape("k_proj"));
        Assert.Equal((192, 64), config.LinearShape("down_proj"));
        var layout = TargetModules.Layout(config, ["k_proj", "up_proj"]);
        Assert.Equal(["model.layers.0.self_attn.k_proj", "model.layers.0.mlp.up_proj", "model.layers.1.self_attn.k_proj", "model.layers.1.mlp.up_proj"], layout.ModuleNames);
    }

    [Fact]
    public void Unknown_target_modules_are_refused_naming_the_choices()
    {
        var error = Assert.Throws<ArgumentException>(() => TargetModules.Validate(["q_proj", "qkv"]));
        Assert.Contains("'qkv'", error.Message);
        Assert.Contains("gate_proj", error.Message);
    }
}
