using Federated.Core.Data;
using Federated.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>
/// Base models that need no download: small Llama decoders over the byte tokenizer, with weights drawn
/// from a fixed seed by <see cref="DeterministicRandom"/>, so every client and the server build the same
/// base. They are random feature models, not pretrained: LoRA rounds are what teach them the task.
/// </summary>
public static class BuiltinModels
{
    public const string Prefix = "builtin:";
    public const string Tiny = "builtin:tiny";
    public const string Small = "builtin:small";
    private const ulong Seed = 20240601;

    public static IReadOnlyList<string> Names => [Tiny, Small];

    public static bool IsBuiltin(string reference) => reference.StartsWith(Prefix, StringComparison.Ordinal);

    public static LlamaConfig Config(string reference) => reference switch
    {
        Tiny => new LlamaConfig
        {
            VocabSize = ByteTokenizer.VocabularySize,
            HiddenSize = 64,
            IntermediateSize = 192,
            NumLayers = 2,
            NumHeads = 4,
            NumKeyValueHeads = 2,
            MaxPositionEmbeddings = 128,
            TieWordEmbeddings = true,
            BosTokenId = ByteTokenizer.Bos,
            EosTokenIds = [ByteTokenizer.Eos],
        },
        Small => new LlamaConfig
        {
            VocabSize = ByteTokenizer.VocabularySize,
            HiddenSize = 256,
            IntermediateSize = 704,
            NumLayers = 4,
            NumHeads = 8,
            NumKeyValueHeads = 4,
            MaxPositionEmbeddings = 256,
            TieWordEmbeddings = true,
            BosTokenId = ByteTokenizer.Bos,
            EosTokenIds = [ByteTokenizer.Eos],
        },
        _ => throw new ArgumentException($"unknown built-in model '{reference}'; built-in models are {string.Join(", ", Names)}"),
    };

    public static LlamaForCausalLM Create(string reference, Device device) => Create(Config(reference), reference, device);

    /// <summary>A model of any shape with the built-in initialisation, seeded by <paramref name="label"/>.</summary>
    public static LlamaForCausalLM Create(LlamaConfig config, string label, Device device)
    {
        var model = new LlamaForCausalLM(config, device);
        Initialise(model, DeterministicRandom.Mix(Seed, label));
        return model;
    }

    /// <summary>Embeddings ~ N(0, 1); projections ~ N(0, 1/in), the residual outputs scaled down by √(2·layers); norms 1 but the last.</summary>
    private static void Initialise(LlamaForCausalLM model, ulong seed)
    {
        var residualScale = 1.0 / Math.Sqrt(2.0 * model.Config.NumLayers);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (name == "model.norm.weight")
            {
                // Tied N(0, 1) embeddings give logits of standard deviation √d; this brings them to 1.
                using var fill = NewDisposeScope();
                parameter.fill_(1.0 / Math.Sqrt(model.Config.HiddenSize));
                continue;
            }
            if (name.EndsWith("norm.weight", StringComparison.Ordinal))
                continue;
            double std = name.Contains("embed_tokens", StringComparison.Ordinal) ? 1.0 : 1.0 / Math.Sqrt(parameter.shape[^1]);
            if (name.Contains("o_proj", StringComparison.Ordinal) || name.Contains("down_proj", StringComparison.Ordinal))
                std *= residualScale;
            var random = new DeterministicRandom(DeterministicRandom.Mix(seed, name));
            var values = new float[parameter.numel()];
            for (int i = 0; i < values.Length; i++)
                values[i] = (float)(random.NextGaussian() * std);
            using var scope = NewDisposeScope();
            parameter.copy_(tensor(values, parameter.shape));
        }
    }
}
