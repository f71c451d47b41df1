using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>
/// The keys (after rotary embedding) and values of every decoder layer for positions 0..<see cref="Length"/>-1, so that
/// decoding one more token attends to them instead of recomputing the whole sequence. Its tensors are allocated once,
/// [batch, kv heads, capacity, head dim] per layer, outside any dispose scope; disposing the cache frees them.
/// </summary>
public sealed class KeyValueCache : IDisposable
{
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;

    /// <param name="capacity">The most positions it will hold: at most the model's <see cref="LlamaConfig.MaxPositionEmbeddings"/>.</param>
    public KeyValueCache(LlamaConfig config, int capacity, Device device, int batch = 1, ScalarType dtype = ScalarType.Float32)
    {
        if (capacity < 1 || capacity > config.MaxPositionEmbeddings)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"a key/value cache holds 1..{config.MaxPositionEmbeddings} positions (the model's max_position_embeddings)");
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        Capacity = capacity;
        Batch = batch;
        _keys = new Tensor[config.NumLayers];
        _values = new Tensor[config.NumLayers];
        for (int i = 0; i < config.NumLayers; i++)
        {
            _keys[i] = zeros([batch, config.NumKeyValueHeads, capacity, config.HeadDim], dtype, device).DetachFromDisposeScope();
            _values[i] = zeros([batch, config.NumKeyValueHeads, capacity, config.HeadDim], dtype, device).DetachFromDisposeScope();
        }
    }

    public int Capacity { get; }

    public int Batch { get; }

    public int Layers => _keys.Length;

    /// <summary>Positions held: the absolute position of the next token fed to the model.</summary>
    public int Length { get; private set; }

    /// <summary>
    /// Writes one layer's keys and values [batch, kv heads, n, head dim] for positions <see cref="Length"/>..Length+n-1 and
    /// returns views of all positions so far, 0..Length+n-1. <see cref="Advance"/> moves <see cref="Length"/> once every layer has written.
    /// </summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        var held = _keys[layer].shape;
        if (keys.dim() != 4 || keys.shape[0] != held[0] || keys.shape[1] != held[1] || keys.shape[3] != held[3] || !keys.shape.SequenceEqual(values.shape))
            throw new ArgumentException($"keys {Tensors.TensorShape.Describe(keys.shape)} and values {Tensors.TensorShape.Describe(values.shape)} do not fit layer {layer} of a key/value cache of [batch, kv heads, positions, head dim] = {Tensors.TensorShape.Describe(held)}");
        var added = keys.shape[2];
        var total = CheckRoom(added);
        _keys[layer].narrow(2, Length, added).copy_(keys);
        _values[layer].narrow(2, Length, added).copy_(values);
        return (_keys[layer].narrow(2, 0, total), _values[layer].narrow(2, 0, total));
    }

    /// <summary>Marks <paramref name="added"/> more positions as held.</summary>
    public void Advance(long added) => Length = CheckRoom(added);

    /// <summary>Throws unless <paramref name="added"/> more positions fit; returns the length they make.</summary>
    public int CheckRoom(long added)
    {
        if (added < 1 || Length + added > Capacity)
            throw new ArgumentException($"the key/value cache holds {Length} of {Capacity} positions; {added} more do not fit");
        return (int)(Length + added);
    }

    public void Dispose()
    {
        foreach (var tensor in _keys.Concat(_values))
            tensor.Dispose();
    }
}
