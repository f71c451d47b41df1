using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>One pre-norm decoder block: h = x + attn(norm(x)); out = h + mlp(norm(h)).</summary>
public sealed class LlamaDecoderLayer : nn.Module<Tensor, RotaryEmbedding, Tensor>
{
    [ComponentName(Name = "self_attn")]
    private readonly LlamaAttention _selfAttn;

    [ComponentName(Name = "mlp")]
    private readonly LlamaMlp _mlp;

    [ComponentName(Name = "input_layernorm")]
    private readonly RmsNorm _inputLayerNorm;

    [ComponentName(Name = "post_attention_layernorm")]
    private readonly RmsNorm _postAttentionLayerNorm;

    public LlamaDecoderLayer(string name, LlamaConfig config, bool attentionBias, Device device)
        : base(name)
    {
        _selfAttn = new LlamaAttention("self_attn", config, attentionBias, device);
        _mlp = new LlamaMlp("mlp", config, device);
        _inputLayerNorm = new RmsNorm("input_layernorm", config.HiddenSize, config.RmsNormEps, device);
        _postAttentionLayerNorm = new RmsNorm("post_attention_layernorm", config.HiddenSize, config.RmsNormEps, device);
        RegisterComponents();
    }

    /// <summary>The LoRA factors of this layer's linear layers, the only parameters that train.</summary>
    public IReadOnlyList<Parameter> LoraParameters()
        => modules().OfType<LoraLinear>().Where(l => l.Lora is not null).SelectMany(l => new[] { l.LoraA!, l.LoraB! }).ToList();

    /// <summary>Whether a forward pass in training mode draws random numbers (LoRA dropout).</summary>
    public bool DrawsRandomNumbers => training && modules().OfType<LoraLinear>().Any(l => l.Lora is { Dropout: > 0 });

    /// <summary>The generator this layer's LoRA dropout draws from, if the model gave it one.</summary>
    public Generator? DropoutGenerator => modules().OfType<LoraLinear>().FirstOrDefault(l => l.Lora is { Dropout: > 0 })?.DropoutGenerator;

    public override Tensor forward(Tensor x, RotaryEmbedding rotary)
    {
        using var scope = NewDisposeScope();
        var h = x.add(_selfAttn.forward(_inputLayerNorm.forward(x), rotary));
        return h.add(_mlp.forward(_postAttentionLayerNorm.forward(h))).MoveToOuterDisposeScope();
    }

    /// <summary>The same block for new tokens after those held in <paramref name="cache"/> (see <see cref="LlamaAttention.ForwardCached"/>).</summary>
    public Tensor ForwardCached(Tensor x, RotaryEmbedding rotary, KeyValueCache cache, int layer)
    {
        var h = x.add(_selfAttn.ForwardCached(_inputLayerNorm.forward(x), rotary, cache, layer));
        return h.add(_mlp.forward(_postAttentionLayerNorm.forward(h)));
    }
}
