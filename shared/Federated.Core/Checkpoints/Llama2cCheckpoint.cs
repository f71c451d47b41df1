using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using Federated.Core.Model;
using static TorchSharp.torch;

namespace Federated.Core.Checkpoints;

/// <summary>
/// llama2.c's legacy checkpoint (Karpathy's run.c): seven little-endian int32 values (dim, hidden_dim,
/// n_layers, n_heads, n_kv_heads, vocab_size — negative when the classifier is stored separately — and
/// seq_len), then float32 weights grouped by kind across layers: token embedding, attention norms, wq, wk,
/// wv, wo, FFN norms, w1, w2, w3, final norm, two unused rotary tables, and the classifier if not shared.
/// llama2.c rotates interleaved pairs (2i, 2i+1) where our model rotates halves, so the rows of wq and wk
/// are permuted per head on loading, as Hugging Face's conversion script does.
/// </summary>
public static class Llama2cCheckpoint
{
    public const string Extension = ".bin";
    private const int HeaderBytes = 7 * sizeof(int);
    private const int VersionedMagic = 0x616b3432; // "ak42": llama2.c's newer export formats

    public static CheckpointInfo Describe(string path)
        => new(path, CheckpointFormat.Llama2c, HuggingFaceConfig.LlamaArchitecture, ReadHeader(path).Config, "F32");

    public static LlamaForCausalLM Load(string path, Device device)
    {
        var header = ReadHeader(path);
        var config = header.Config;
        var model = new LlamaForCausalLM(config, device);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            stream.Position = HeaderBytes;
            var targets = new ParameterTargets(model);
            int dim = config.HiddenSize, hidden = config.IntermediateSize, kvDim = config.NumKeyValueHeads * config.HeadDim;
            void Read(string name, long[] shape, ParameterTargets.SpanAction? transform = null)
                => targets.Fill(name, shape, path, values =>
                {
                    stream.ReadExactly(MemoryMarshal.AsBytes(values));
                    transform?.Invoke(values);
                });
            void PerLayer(string suffix, long[] shape, ParameterTargets.SpanAction? transform = null)
            {
                for (int layer = 0; layer < config.NumLayers; layer++)
                    Read($"model.layers.{layer}.{suffix}", shape, transform);
            }

            Read("model.embed_tokens.weight", [config.VocabSize, dim]);
            PerLayer("input_layernorm.weight", [dim]);
            PerLayer("self_attn.q_proj.weight", [dim, dim], w => InterleavedToHalves(w, config.NumHeads, config.HeadDim, dim));
            PerLayer("self_attn.k_proj.weight", [kvDim, dim], w => InterleavedToHalves(w, config.NumKeyValueHeads, config.HeadDim, dim));
            PerLayer("self_attn.v_proj.weight", [kvDim, dim]);
            PerLayer("self_attn.o_proj.weight", [dim, dim]);
            PerLayer("post_attention_layernorm.weight", [dim]);
            PerLayer("mlp.gate_proj.weight", [hidden, dim]);
            PerLayer("mlp.down_proj.weight", [dim, hidden]);
            PerLayer("mlp.up_proj.weight", [hidden, dim]);
            Read("model.norm.weight", [dim]);
            if (!config.TieWordEmbeddings)
            {
                stream.Position += (long)header.SeqLen * config.HeadDim * sizeof(float);
                Read("lm_head.weight", [config.VocabSize, dim]);
            }
            targets.EnsureComplete(path);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reorders each head's rows from interleaved pairs (2i, 2i+1) to halves (i, i + d/2), so that rotate-half
    /// RoPE on the new rows computes what pairwise RoPE computes on the old ones.
    /// </summary>
    public static void InterleavedToHalves(Span<float> weight, int heads, int headDim, int columns)
    {
        var original = weight.ToArray();
        var half = headDim / 2;
        for (int head = 0; head < heads; head++)
        {
            for (int i = 0; i < half; i++)
            {
                for (int pair = 0; pair < 2; pair++)
                {
                    var from = (head * headDim + 2 * i + pair) * columns;
                    var to = (head * headDim + pair * half + i) * columns;
                    original.AsSpan(from, columns).CopyTo(weight.Slice(to, columns));
                }
            }
        }
    }

    private static Header ReadHeader(string path)
    {
        long length;
        var bytes = new byte[HeaderBytes];
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            length = stream.Length;
            if (length < HeaderBytes)
                throw new CheckpointFormatException($"{path}: is {length} bytes; a llama2.c checkpoint starts with a {HeaderBytes}-byte header");
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointFormatException($"{path}: cannot be read: {e.Message}", e);
        }
        var values = new int[7];
        for (int i = 0; i < 7; i++)
            values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i));
        if (values[0] == VersionedMagic)
            throw new CheckpointFormatException($"{path}: is a versioned llama2.c export (magic 'ak42'); only the legacy format (header of seven int32 values) is supported");
        string[] names = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"];
        for (int i = 0; i < 7; i++)
        {
            if (values[i] == 0 || (values[i] < 0 && i != 5))
                throw new CheckpointFormatException($"{path}: header field {names[i]} is {values[i]}; it must be positive");
        }
        var header = new Header(values[0], values[1], values[2], values[3], values[4], Math.Abs(values[5]), values[5] > 0, values[6]);
        var config = header.Config;
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CheckpointFormatException($"{path}: header ({header}) describes no valid model: {e.Message}");
        }
        long dim = header.Dim, kvDim = dim / header.Heads * header.KvHeads;
        long floats = header.VocabSize * dim + header.Layers * (2 * dim + 2 * dim * dim + 2 * dim * kvDim + 3 * dim * header.HiddenDim)
            + dim + (long)header.SeqLen * config.HeadDim + (header.Shared ? 0 : header.VocabSize * dim);
        var expected = HeaderBytes + floats * sizeof(float);
        if (length != expected)
            throw new CheckpointFormatException($"{path}: is {length} bytes but its header ({header}) describes {expected}");
        return header;
    }

    private sealed record Header(int Dim, int HiddenDim, int Layers, int Heads, int KvHeads, int VocabSize, bool Shared, int SeqLen)
    {
        public LlamaConfig Config => new()
        {
            VocabSize = VocabSize,
            HiddenSize = Dim,
            IntermediateSize = HiddenDim,
            NumLayers = Layers,
            NumHeads = Heads,
            NumKeyValueHeads = KvHeads,
            MaxPositionEmbeddings = SeqLen,
            RmsNormEps = 1e-5,
            RopeTheta = 10000.0,
            TieWordEmbeddings = Shared,
            BosTokenId = 1,
            EosTokenIds = [2],
        };

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"dim={Dim}, hidden_dim={HiddenDim}, n_layers={Layers}, n_heads={Heads}, n_kv_heads={KvHeads}, vocab_size={(Shared ? VocabSize : -VocabSize)}, seq_len={SeqLen}");
    }
}
