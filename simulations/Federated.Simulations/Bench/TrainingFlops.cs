using Federated.Core.Model;

namespace Federated.Simulations.Bench;

/// <summary>
/// Matrix-product FLOPs per token of one LoRA training step of a Llama with LoRA of rank r on its seven decoder
/// projections, counting what a step executes. A frozen weight W costs its forward product and the product
/// giving its input's gradient (2 + 2 per weight), never a weight gradient; a LoRA factor also gets its own
/// gradient (6 per weight). Attention's QKᵀ and PV cost 2·T·d_q per layer forward, 6·T·d_q with backward, for
/// causal attention over T positions (PaLM's 12·L·d·T halved by the mask). Layer 0's q, k and v read the
/// embedding, which needs no gradient, so their input-gradient products are not run. Norms, rotations,
/// softmax and the optimizer are not matrix products and are not counted.
/// </summary>
public readonly record struct TrainingFlops(double FrozenWeights, double LoraWeights, double Executed, double SixTimesParameters)
{
    public static TrainingFlops Of(LlamaConfig c, int sequence, int rank)
    {
        double d = c.HiddenSize, f = c.IntermediateSize, kv = (double)c.NumKeyValueHeads * c.HeadDim, q = (double)c.NumHeads * c.HeadDim;
        var perLayer = d * q + 2 * d * kv + q * d + 3 * d * f;
        var frozen = c.NumLayers * perLayer + (double)c.VocabSize * d; // the tied head is a product too
        var lora = c.NumLayers * rank * ((d + q) + 2 * (d + kv) + (q + d) + 2 * (d + f) + (f + d));
        var attention = 6.0 * c.NumLayers * q * sequence;
        var firstLayerInputGradients = 2 * (d * q + 2 * d * kv) + 2 * rank * 3 * d;
        return new TrainingFlops(frozen, lora, 4 * frozen + 6 * lora + attention - firstLayerInputGradients, 6 * (frozen + lora) + attention);
    }

    public const string Counted = "4·(frozen linear weights and the tied head) + 6·(LoRA factors) + 6·L·d·T causal attention, "
        + "less layer 0's q,k,v input gradients: frozen weights get no weight-gradient product";
}
