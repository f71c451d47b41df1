namespace Federated.Core.Model;

/// <summary>Architecture of a Llama-family decoder, with Hugging Face config.json's field meanings.</summary>
public sealed record LlamaConfig
{
    public required int VocabSize { get; init; }

    public required int HiddenSize { get; init; }

    public required int IntermediateSize { get; init; }

    public required int NumLayers { get; init; }

    public required int NumHeads { get; init; }

    public required int NumKeyValueHeads { get; init; }

    public required int MaxPositionEmbeddings { get; init; }

    public double RmsNormEps { get; init; } = 1e-5;

    public double RopeTheta { get; init; } = 10000.0;

    public bool TieWordEmbeddings { get; init; }

    /// <summary>Bias on the q, k and v projections (Qwen2); o_proj never has one.</summary>
    public bool AttentionBias { get; init; }

    /// <summary>Llama 3's long-context frequency adjustment of the rotary embeddings; null for plain RoPE.</summary>
    public Llama3RopeScaling? RopeScaling { get; init; }

    public int? BosTokenId { get; init; }

    /// <summary>Tokens that end generation (Llama 3 has several).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    public int HeadDim => HiddenSize / NumHeads;

    /// <summary>Base parameters of a model of this shape (the classifier counted once when tied).</summary>
    public long ParameterCount
    {
        get
        {
            long kv = (long)NumKeyValueHeads * HeadDim, q = (long)NumHeads * HeadDim;
            long attention = HiddenSize * (q + 2 * kv) + q * HiddenSize + (AttentionBias ? q + 2 * kv : 0);
            long perLayer = attention + 3L * HiddenSize * IntermediateSize + 2L * HiddenSize;
            long embeddings = (long)VocabSize * HiddenSize * (TieWordEmbeddings ? 1 : 2);
            return embeddings + NumLayers * perLayer + HiddenSize;
        }
    }

    /// <summary>Throws naming the first field that makes no valid model.</summary>
    public void Validate()
    {
        Positive(VocabSize, nameof(VocabSize));
        Positive(HiddenSize, nameof(HiddenSize));
        Positive(IntermediateSize, nameof(IntermediateSize));
        Positive(NumLayers, nameof(NumLayers));
        Positive(NumHeads, nameof(NumHeads));
        Positive(NumKeyValueHeads, nameof(NumKeyValueHeads));
        Positive(MaxPositionEmbeddings, nameof(MaxPositionEmbeddings));
        if (HiddenSize % NumHeads != 0)
            throw new ArgumentException($"{nameof(HiddenSize)} {HiddenSize} is not divisible by {nameof(NumHeads)} {NumHeads}");
        if (HeadDim % 2 != 0)
            throw new ArgumentException($"head dimension {HeadDim} must be even for rotary embeddings");
        if (NumHeads % NumKeyValueHeads != 0)
            throw new ArgumentException($"{nameof(NumHeads)} {NumHeads} is not a multiple of {nameof(NumKeyValueHeads)} {NumKeyValueHeads}");
        if (!(RmsNormEps > 0) || !(RopeTheta > 0))
            throw new ArgumentException($"{nameof(RmsNormEps)} and {nameof(RopeTheta)} must be positive");
        RopeScaling?.Validate();
    }

    /// <summary>(in, out) features of a linear layer of one decoder layer, by its Hugging Face name.</summary>
    public (int In, int Out) LinearShape(string projection) => projection switch
    {
        "q_proj" => (HiddenSize, NumHeads * HeadDim),
        "k_proj" or "v_proj" => (HiddenSize, NumKeyValueHeads * HeadDim),
        "o_proj" => (NumHeads * HeadDim, HiddenSize),
        "gate_proj" or "up_proj" => (HiddenSize, IntermediateSize),
        "down_proj" => (IntermediateSize, HiddenSize),
        _ => throw new ArgumentException($"'{projection}' is not a linear layer of a Llama decoder layer (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)"),
    };

    /// <summary>Value equality, the token lists included.</summary>
    public bool Equals(LlamaConfig? other)
        => other is not null && VocabSize == other.VocabSize && HiddenSize == other.HiddenSize && IntermediateSize == other.IntermediateSize
            && NumLayers == other.NumLayers && NumHeads == other.NumHeads && NumKeyValueHeads == other.NumKeyValueHeads
            && MaxPositionEmbeddings == other.MaxPositionEmbeddings && RmsNormEps.Equals(other.RmsNormEps) && RopeTheta.Equals(other.RopeTheta)
            && TieWordEmbeddings == other.TieWordEmbeddings && AttentionBias == other.AttentionBias && Equals(RopeScaling, other.RopeScaling)
            && BosTokenId == other.BosTokenId && EosTokenIds.SequenceEqual(other.EosTokenIds);

    public override int GetHashCode() => HashCode.Combine(VocabSize, HiddenSize, IntermediateSize, NumLayers, NumHeads, NumKeyValueHeads, MaxPositionEmbeddings, RopeScaling);

    private static void Positive(int value, string name)
    {
        if (value <= 0)
            throw new ArgumentException($"{name} must be positive, got {value}");
    }
}
