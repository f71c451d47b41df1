using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>The decoder stack: token embeddings, decoder layers, final norm (Hugging Face's LlamaModel).</summary>
public sealed class LlamaModel : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "embed_tokens")]
    private readonly TokenEmbedding _embedTokens;

    [ComponentName(Name = "layers")]
    private readonly ModuleList<LlamaDecoderLayer> _layers;

    [ComponentName(Name = "norm")]
    private readonly RmsNorm _norm;

    [ComponentName(Name = "rotary_emb")]
    private readonly RotaryEmbedding _rotary;

    public LlamaModel(string name, LlamaConfig config, bool attentionBias, Device device)
        : base(name)
    {
        _embedTokens = new TokenEmbedding("embed_tokens", config.VocabSize, config.HiddenSize, device);
        _layers = new ModuleList<LlamaDecoderLayer>();
        for (int i = 0; i < config.NumLayers; i++)
            _layers.Add(new LlamaDecoderLayer(i.ToString(System.Globalization.CultureInfo.InvariantCulture), config, attentionBias, device));
        _norm = new RmsNorm("norm", config.HiddenSize, config.RmsNormEps, device);
        _rotary = new RotaryEmbedding("rotary_emb", config.HeadDim, config.MaxPositionEmbeddings, config.RopeTheta, device, config.RopeScaling);
        RegisterComponents();
    }

    public Parameter EmbeddingWeight => _embedTokens.Weight;

    public bool GradientCheckpointing { get; set; }

    public override Tensor forward(Tensor tokens)
    {
        if (tokens.shape[1] > _rotary.MaxPositions)
            throw new ArgumentException($"sequence of {tokens.shape[1]} tokens is longer than the model's {_rotary.MaxPositions} positions");
        var x = _embedTokens.forward(tokens);
        var checkpoint = GradientCheckpointing && training && is_grad_enabled();
        foreach (var layer in _layers)
            x = checkpoint ? DecoderLayerCheckpoint.Run(layer, x, _rotary) : layer.forward(x, _rotary);
        return _norm.forward(x);
    }

    /// <summary>
    /// Final hidden states of new tokens [batch, n] at positions <see cref="KeyValueCache.Length"/>..Length+n-1, attending to
    /// the cached positions; their keys and values join the cache.
    /// </summary>
    public Tensor ForwardCached(Tensor tokens, KeyValueCache cache)
    {
        if (tokens.dim() != 2 || cache.Layers != _layers.Count || tokens.shape[0] != cache.Batch)
            throw new ArgumentException($"a key/value cache of {cache.Layers} layers and batch {cache.Batch} does not fit {_layers.Count} layers and tokens [batch, n] of shape {Tensors.TensorShape.Describe(tokens.shape)}");
        var added = tokens.shape[1];
        cache.CheckRoom(added);
        var x = _embedTokens.forward(tokens);
        for (int i = 0; i < _layers.Count; i++)
            x = _layers[i].ForwardCached(x, _rotary, cache, i);
        cache.Advance(added);
        return _norm.forward(x);
    }
}
