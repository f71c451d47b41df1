using Federated.Core.Checkpoints;
using Federated.Core.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Federated.Core.Tests.Model;

/// <summary>Decoding with a key/value cache gives the logits of the full-sequence forward pass at every position.</summary>
public class KeyValueCacheTests
{
    private static readonly long[] Ids = [1, 403, 407, 12, 99, 250, 3, 77, 310, 5, 48, 260, 11, 500, 7, 42, 101, 2, 64, 333];

    /// <summary>Small Qwen2-style attention (q, k, v bias) with grouped KV heads and Llama 3 rope scaling over a short original context.</summary>
    private static readonly LlamaConfig BiasedScaled = new()
    {
        VocabSize = 512, HiddenSize = 64, IntermediateSize = 96, NumLayers = 2, NumHeads = 4, NumKeyValueHeads = 2,
        MaxPositionEmbeddings = 32, RopeTheta = 500000, AttentionBias = true, RopeScaling = new Llama3RopeScaling(8, 1, 4, 4),
    };

    [Theory]
    [InlineData(new[] { 1 })]
    [InlineData(new[] { 5 })]
    [InlineData(new[] { 3, 4, 6 })]
    public void Cached_logits_equal_full_sequence_logits_on_stories260K(int[] chunks)
    {
        using var model = ModelCatalog.Load(TestModels.Stories260K, CPU);
        Assert.NotEqual(model.Config.NumHeads, model.Config.NumKeyValueHeads);
        AssertCachedMatchesFull(model, Ids, chunks);
    }

    [Theory]
    [InlineData(new[] { 1 })]
    [InlineData(new[] { 4, 3 })]
    public void Cached_logits_equal_full_sequence_logits_with_attention_bias_and_rope_scaling(int[] chunks)
    {
        using var model = BuiltinModels.Create(BiasedScaled, "kv-cache", CPU);
        Assert.True(model.Linears["model.layers.0.self_attn.k_proj"].Bias!.abs().max().item<float>() > 0);
        AssertCachedMatchesFull(model, Ids, chunks);
    }

    [Fact]
    public void Cached_logits_equal_full_sequence_logits_with_a_LoRA_adapter()
    {
        using var model = BuiltinModels.Create(BuiltinModels.Small, CPU);
        var ids = Ids.Select(id => id % 256).ToArray();
        float[] plain;
        using (no_grad())
        using (NewDisposeScope())
            plain = model.forward(tensor(ids, [1, ids.Length])).data<float>().ToArray();
        model.AttachLora(new LoraSettings(4, 8), TargetModules.All, seed: 2);
        using (no_grad())
        using (var generator = new TorchSharp.torch.Generator(5))
        {
            // B is the second factor of each branch; nonzero, it makes the adapter act.
            foreach (var b in model.LoraParameters().Where((_, i) => i % 2 == 1))
            {
                using var scope = NewDisposeScope();
                b.copy_(randn(b.shape, generator: generator).mul_(0.05));
            }
        }
        var full = AssertCachedMatchesFull(model, ids, [6, 2]);
        Assert.True(full.Zip(plain).Max(p => Math.Abs(p.First - p.Second)) > 1e-2, "the adapter should change the logits");
    }

    [Fact]
    public void A_full_cache_refuses_more_tokens_naming_its_size()
    {
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        using var cache = new KeyValueCache(model.Config, 3, CPU);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.ForwardCached(tensor(new long[] { 1, 2 }, [1, 2]), cache);
        var error = Assert.Throws<ArgumentException>(() => model.ForwardCached(tensor(new long[] { 3, 4 }, [1, 2]), cache)).Message;
        Assert.Contains("holds 2 of 3 positions; 2 more do not fit", error);
        Assert.Equal(2, cache.Length);
    }

    [Fact]
    public void A_cache_of_another_shape_is_refused()
    {
        using var model = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using (var deeper = new KeyValueCache(model.Config with { NumLayers = 3 }, 8, CPU))
            Assert.Contains("cache of 3 layers and batch 1 does not fit 2 layers and tokens [batch, n] of shape [1, 1]", Assert.Throws<ArgumentException>(() => model.ForwardCached(tensor(new long[] { 1 }, [1, 1]), deeper)).Message);
        using (var wider = new KeyValueCache(model.Config with { NumKeyValueHeads = 4 }, 8, CPU))
            Assert.Contains("do not fit layer 0 of a key/value cache of [batch, kv heads, positions, head dim] = [1, 4, 8, 16]", Assert.Throws<ArgumentException>(() => model.ForwardCached(tensor(new long[] { 1 }, [1, 1]), wider)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeyValueCache(model.Config, model.Config.MaxPositionEmbeddings + 1, CPU));
    }

    [Fact]
    public void Disposing_the_cache_frees_its_tensors()
    {
        var config = BuiltinModels.Config(BuiltinModels.Small);
        // This thread's count: other tests run beside this one.
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var cache = new KeyValueCache(config, 16, CPU);
        Assert.Equal(before + 2 * config.NumLayers, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        cache.Dispose();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    /// <summary>Feeds <paramref name="ids"/> in chunks of the given sizes (the last size repeating), then compares every position's logits.</summary>
    private static float[] AssertCachedMatchesFull(LlamaForCausalLM model, long[] ids, int[] chunks)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var full = model.forward(tensor(ids, [1, ids.Length]));
        using var cache = new KeyValueCache(model.Config, ids.Length, CPU);
        var pieces = new List<Tensor>();
        for (int start = 0, chunk = 0; start < ids.Length; chunk = Math.Min(chunk + 1, chunks.Length - 1))
        {
            var length = Math.Min(chunks[chunk], ids.Length - start);
            pieces.Add(model.ForwardCached(tensor(ids[start..(start + length)], [1, length]), cache));
            start += length;
            Assert.Equal(start, cache.Length);
        }
        var cached = cat(pieces, dim: 1);
        Assert.Equal(full.shape, cached.shape);
        var difference = full.sub(cached).abs().max(-1).values.squeeze(0).data<float>().ToArray();
        for (int position = 0; position < difference.Length; position++)
            Assert.True(difference[position] <= 1e-4, $"position {position}: cached logits differ from the full pass by {difference[position]}");
        return full.data<float>().ToArray();
    }
}
