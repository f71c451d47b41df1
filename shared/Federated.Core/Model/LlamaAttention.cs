using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>Causal self-attention with grouped-query heads (Ainslie et al., 2023) and rotary positions.</summary>
public sealed class LlamaAttention : nn.Module<Tensor, RotaryEmbedding, Tensor>
{
    [ComponentName(Name = "q_proj")]
    private readonly LoraLinear _qProj;

    [ComponentName(Name = "k_proj")]
    private readonly LoraLinear _kProj;

    [ComponentName(Name = "v_proj")]
    private readonly LoraLinear _vProj;

    [ComponentName(Name = "o_proj")]
    private readonly LoraLinear _oProj;

    private readonly int _heads;
    private readonly int _kvHeads;
    private readonly int _headDim;

    public LlamaAttention(string name, LlamaConfig config, bool bias, Device device)
        : base(name)
    {
        _heads = config.NumHeads;
        _kvHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        _qProj = new LoraLinear("q_proj", config.HiddenSize, _heads * _headDim, bias, device);
        _kProj = new LoraLinear("k_proj", config.HiddenSize, _kvHeads * _headDim, bias, device);
        _vProj = new LoraLinear("v_proj", config.HiddenSize, _kvHeads * _headDim, bias, device);
        _oProj = new LoraLinear("o_proj", _heads * _headDim, config.HiddenSize, false, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, RotaryEmbedding rotary)
    {
        // Intermediates not saved for backward die with this scope instead of living until the caller's ends.
        using var scope = NewDisposeScope();
        long batch = x.shape[0], length = x.shape[1];
        var q = rotary.Apply(_qProj.forward(x).view(batch, length, _heads, _headDim).transpose(1, 2));
        var k = rotary.Apply(_kProj.forward(x).view(batch, length, _kvHeads, _headDim).transpose(1, 2));
        var v = _vProj.forward(x).view(batch, length, _kvHeads, _headDim).transpose(1, 2);
        if (_kvHeads != _heads)
        {
            k = k.repeat_interleave(_heads / _kvHeads, dim: 1);
            v = v.repeat_interleave(_heads / _kvHeads, dim: 1);
        }
        var attended = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true);
        return _oProj.forward(attended.transpose(1, 2).reshape(batch, length, _heads * _headDim)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Attention of new tokens, at positions <see cref="KeyValueCache.Length"/> onwards, over the cached positions and
    /// themselves; writes their keys and values into <paramref name="cache"/> as layer <paramref name="layer"/>.
    /// </summary>
    public Tensor ForwardCached(Tensor x, RotaryEmbedding rotary, KeyValueCache cache, int layer)
    {
        long batch = x.shape[0], length = x.shape[1], start = cache.Length;
        var q = rotary.Apply(_qProj.forward(x).view(batch, length, _heads, _headDim).transpose(1, 2), start);
        var k = rotary.Apply(_kProj.forward(x).view(batch, length, _kvHeads, _headDim).transpose(1, 2), start);
        var v = _vProj.forward(x).view(batch, length, _kvHeads, _headDim).transpose(1, 2);
        var (keys, values) = cache.Append(layer, k, v);
        Tensor attended;
        if (length == 1)
        {
            // One query sees every position, so no mask; the query heads sharing a KV head attend as one group,
            // which spares copying the cache once per head.
            var grouped = q.reshape(batch, _kvHeads, _heads / _kvHeads, _headDim);
            attended = nn.functional.scaled_dot_product_attention(grouped, keys, values).reshape(batch, _heads, 1, _headDim);
        }
        else
        {
            if (_kvHeads != _heads)
            {
                keys = keys.repeat_interleave(_heads / _kvHeads, dim: 1);
                values = values.repeat_interleave(_heads / _kvHeads, dim: 1);
            }
            if (start == 0)
            {
                attended = nn.functional.scaled_dot_product_attention(q, keys, values, is_casual: true);
            }
            else
            {
                // Query i sits at position start + i and sees positions 0..start + i.
                using var mask = ones([length, start + length], ScalarType.Bool, x.device).tril_(start);
                attended = nn.functional.scaled_dot_product_attention(q, keys, values, mask);
            }
        }
        return _oProj.forward(attended.transpose(1, 2).reshape(batch, length, _heads * _headDim));
    }
}
