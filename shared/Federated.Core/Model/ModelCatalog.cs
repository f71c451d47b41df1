using Federated.Core.Checkpoints;
using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>
/// Resolves base model references: a built-in model (builtin:tiny, builtin:small), a Hugging Face model
/// directory, or a llama2.c .bin file. Errors are <see cref="ArgumentException"/>s naming the reference.
/// </summary>
public static class ModelCatalog
{
    /// <summary>The architecture behind a reference; throws <see cref="ArgumentException"/> naming the reference if unknown.</summary>
    public static LlamaConfig Describe(string reference) => Inspect(reference).Config;

    /// <summary>Format, architecture, shape and storage of a reference, without loading its weights.</summary>
    public static CheckpointInfo Inspect(string reference) => Resolve(reference,
        () => new CheckpointInfo(reference, CheckpointFormat.Builtin, HuggingFaceConfig.LlamaArchitecture, BuiltinModels.Config(reference), "F32"),
        HuggingFaceCheckpoint.Describe,
        Llama2cCheckpoint.Describe);

    public static LlamaForCausalLM Load(string reference, Device device) => Resolve(reference,
        () => BuiltinModels.Create(reference, device),
        directory => HuggingFaceCheckpoint.Load(directory, device),
        file => Llama2cCheckpoint.Load(file, device));

    private static T Resolve<T>(string reference, Func<T> builtin, Func<string, T> huggingFace, Func<string, T> llama2c)
    {
        if (BuiltinModels.IsBuiltin(reference))
            return builtin();
        try
        {
            if (Directory.Exists(reference))
                return huggingFace(reference);
            if (File.Exists(reference))
            {
                if (!reference.EndsWith(Llama2cCheckpoint.Extension, StringComparison.OrdinalIgnoreCase))
                    throw new CheckpointFormatException($"{reference}: a model file must be a llama2.c checkpoint ({Llama2cCheckpoint.Extension}); a Hugging Face model is given as its directory");
                return llama2c(reference);
            }
        }
        catch (CheckpointFormatException e)
        {
            throw new ArgumentException($"base model '{reference}': {e.Message}", e);
        }
        throw new ArgumentException($"base model '{reference}' is not known: it is not a built-in model ({string.Join(", ", BuiltinModels.Names)}), a Hugging Face model directory or a llama2.c {Llama2cCheckpoint.Extension} file");
    }
}
