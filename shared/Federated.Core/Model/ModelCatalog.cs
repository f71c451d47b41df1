using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>Resolves base model references. Today: the built-in models (builtin:tiny, builtin:small).</summary>
public static class ModelCatalog
{
    /// <summary>The architecture behind a reference; throws <see cref="ArgumentException"/> naming the reference if unknown.</summary>
    public static LlamaConfig Describe(string reference)
    {
        if (BuiltinModels.IsBuiltin(reference))
            return BuiltinModels.Config(reference);
        throw new ArgumentException($"base model '{reference}' is not known; available: {string.Join(", ", BuiltinModels.Names)}");
    }

    public static LlamaForCausalLM Load(string reference, Device device)
    {
        Describe(reference);
        return BuiltinModels.Create(reference, device);
    }
}
