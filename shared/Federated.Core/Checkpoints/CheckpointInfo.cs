using Federated.Core.Model;

namespace Federated.Core.Checkpoints;

/// <summary>Where a base model's weights come from.</summary>
public enum CheckpointFormat
{
    /// <summary>A built-in model drawn from a fixed seed (builtin:tiny, builtin:small).</summary>
    Builtin,

    /// <summary>A Hugging Face model directory: config.json and safetensors.</summary>
    HuggingFace,

    /// <summary>A llama2.c .bin file: a header of seven int32 values, then float32 weights.</summary>
    Llama2c,
}

/// <summary>What a base model reference names, read without loading its weights.</summary>
/// <param name="Architecture">As Hugging Face names it, e.g. LlamaForCausalLM.</param>
/// <param name="DType">How the weights are stored (F32, BF16, …); the model computes in float32.</param>
/// <param name="TokenizerFile">The tokenizer.json beside the weights, if any.</param>
public sealed record CheckpointInfo(string Reference, CheckpointFormat Format, string Architecture, LlamaConfig Config, string DType, string? TokenizerFile = null);
