using System.Runtime.InteropServices;
using Federated.Core.Model;
using Federated.Core.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Federated.Core.Checkpoints;

/// <summary>
/// The base parameters of a freshly built model, filled one checkpoint tensor at a time so that loading
/// never holds more than the model and one tensor: each name must be a parameter of the right shape, and
/// every parameter must be filled exactly once.
/// </summary>
internal sealed class ParameterTargets(LlamaForCausalLM model)
{
    public delegate void SpanAction(Span<float> destination);

    private readonly Dictionary<string, Parameter> _parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
    private readonly HashSet<string> _filled = new(StringComparer.Ordinal);

    /// <summary>
    /// Copies one tensor in; <paramref name="read"/> writes its float32 values, row-major, into the span it is given:
    /// the parameter's own memory when it lives on the CPU, else a buffer the size of the tensor.
    /// Tensors Hugging Face itself ignores (rotary inv_freq buffers, lm_head of a tied model) are skipped.
    /// </summary>
    public void Fill(string name, IReadOnlyList<long> shape, string source, SpanAction read)
    {
        if (!_parameters.TryGetValue(name, out var parameter))
        {
            if (name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal) || (name == "lm_head.weight" && model.Config.TieWordEmbeddings))
                return;
            throw new CheckpointFormatException($"{source}: unexpected tensor '{name}' {TensorShape.Describe(shape)}: the model has no such parameter");
        }
        if (!shape.SequenceEqual(parameter.shape))
            throw new CheckpointFormatException($"{source}: tensor '{name}' has shape {TensorShape.Describe(shape)} but the model expects {TensorShape.Describe(parameter.shape)}");
        if (!_filled.Add(name))
            throw new CheckpointFormatException($"{source}: tensor '{name}' appears more than once");
        if (parameter.device_type == DeviceType.CPU && parameter.dtype == ScalarType.Float32 && parameter.is_contiguous() && parameter.numel() * sizeof(float) <= int.MaxValue)
        {
            read(MemoryMarshal.Cast<byte, float>(parameter.bytes));
            return;
        }
        var values = new float[checked((int)parameter.numel())];
        read(values);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        parameter.copy_(tensor(values, parameter.shape));
    }

    /// <summary>Throws naming the parameters no tensor filled.</summary>
    public void EnsureComplete(string source)
    {
        var missing = _parameters.Keys.Where(name => !_filled.Contains(name)).ToList();
        if (missing.Count > 0)
            throw new CheckpointFormatException($"{source}: missing {missing.Count} tensor(s): {string.Join(", ", missing.Take(8).Select(m => $"'{m}' {TensorShape.Describe(_parameters[m].shape)}"))}{(missing.Count > 8 ? ", …" : "")}");
    }
}
