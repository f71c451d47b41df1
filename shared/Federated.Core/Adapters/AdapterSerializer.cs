using System.Globalization;
using Federated.Core.Tensors;

namespace Federated.Core.Adapters;

/// <summary>
/// Converts adapters to and from safetensors payloads with PEFT tensor names. The scale of the update
/// (ΔW = scale · B · A) travels in the header metadata as "federated.scale".
/// </summary>
public static class AdapterSerializer
{
    public const string ScaleKey = "federated.scale";

    public static IReadOnlyList<NamedTensor> ToTensors(LoraAdapter adapter)
    {
        var tensors = new List<NamedTensor>(adapter.ModuleNames.Count * 2);
        foreach (var module in adapter.ModuleNames)
        {
            var factors = adapter[module];
            tensors.Add(new NamedTensor(AdapterTensorNames.A(module), factors.A.Shape, factors.A.Data));
            tensors.Add(new NamedTensor(AdapterTensorNames.B(module), factors.B.Shape, factors.B.Data));
        }
        return tensors;
    }

    public static Dictionary<string, string> Metadata(LoraAdapter adapter) => new(StringComparer.Ordinal)
    {
        ["format"] = "pt",
        [ScaleKey] = adapter.Scale.ToString("R", CultureInfo.InvariantCulture),
    };

    public static Task WriteAsync(Stream stream, LoraAdapter adapter, CancellationToken cancellationToken = default)
        => SafeTensorsFile.WriteAsync(stream, ToTensors(adapter), Metadata(adapter), cancellationToken);

    public static byte[] ToBytes(LoraAdapter adapter) => SafeTensorsFile.ToBytes(ToTensors(adapter), Metadata(adapter));

    public static async Task WriteFileAsync(string path, LoraAdapter adapter, CancellationToken cancellationToken = default)
    {
        await using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        await WriteAsync(stream, adapter, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<LoraAdapter> ReadAsync(Stream stream, long? payloadBytes = null, CancellationToken cancellationToken = default)
    {
        var (header, tensors) = await SafeTensorsFile.ReadAsync(stream, payloadBytes, cancellationToken).ConfigureAwait(false);
        return FromTensors(header, tensors);
    }

    public static async Task<LoraAdapter> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var (header, tensors) = await SafeTensorsFile.ReadFileAsync(path, cancellationToken).ConfigureAwait(false);
        return FromTensors(header, tensors);
    }

    /// <summary>Reads only the factors of <paramref name="modules"/> from an adapter file (for aggregating a shard of layers).</summary>
    public static async Task<LoraAdapter> ReadModulesAsync(string path, IReadOnlyList<string> modules, CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        var header = await SafeTensorsSlices.ReadHeaderAsync(file, cancellationToken).ConfigureAwait(false);
        var tensors = new List<NamedTensor>(modules.Count * 2);
        foreach (var module in modules)
        {
            foreach (var name in new[] { AdapterTensorNames.A(module), AdapterTensorNames.B(module) })
            {
                if (!header.ByName.TryGetValue(name, out var entry))
                    throw new AdapterFormatException($"{path}: tensor '{name}' is missing");
                tensors.Add(await SafeTensorsSlices.ReadAsync(file, header, entry, cancellationToken).ConfigureAwait(false));
            }
        }
        return FromTensors(header, tensors);
    }

    /// <summary>The module names of an adapter file, in payload order, from its header alone.</summary>
    public static async Task<IReadOnlyList<string>> ReadModuleNamesAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        return ModuleNames(await SafeTensorsSlices.ReadHeaderAsync(file, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The modules whose LoRA factors a payload holds, in payload order.</summary>
    public static IReadOnlyList<string> ModuleNames(SafeTensorsHeader header)
    {
        var modules = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in header.Tensors)
        {
            if (AdapterTensorNames.TryParse(tensor.Name, out var module, out _) && seen.Add(module))
                modules.Add(module);
        }
        return modules;
    }

    /// <summary>The payload's scale from its "federated.scale" metadata; null when missing or not a finite number.</summary>
    public static double? ScaleOf(SafeTensorsHeader header)
        => header.Metadata.TryGetValue(ScaleKey, out var text)
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var scale)
            && double.IsFinite(scale) ? scale : null;

    /// <summary>Groups PEFT-named tensors into modules; every module needs both factors with matching rank.</summary>
    public static LoraAdapter FromTensors(SafeTensorsHeader header, IReadOnlyList<NamedTensor> tensors)
    {
        var scale = ScaleOf(header)
            ?? throw new AdapterFormatException($"adapter payload has no valid '{ScaleKey}' metadata (got '{header.Metadata.GetValueOrDefault(ScaleKey)}')");
        return FromTensors(tensors, scale);
    }

    /// <summary>Groups PEFT-named tensors into modules of an adapter with the given scale.</summary>
    public static LoraAdapter FromTensors(IReadOnlyList<NamedTensor> tensors, double scale)
    {
        var a = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        var b = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var tensor in tensors)
        {
            if (!AdapterTensorNames.TryParse(tensor.Name, out var module, out var factor))
                throw new AdapterFormatException($"tensor '{tensor.Name}' is not a LoRA factor (expected base_model.model.<module>.lora_A.weight or .lora_B.weight)");
            if (tensor.Shape.Count != 2)
                throw new AdapterFormatException($"tensor '{tensor.Name}' has shape {TensorShape.Describe(tensor.Shape)}; LoRA factors are matrices");
            // An empty tensor may declare any dimension; a matrix counts its rows and columns in an int.
            if (tensor.Shape[0] > int.MaxValue || tensor.Shape[1] > int.MaxValue)
                throw new AdapterFormatException($"tensor '{tensor.Name}' has shape {TensorShape.Describe(tensor.Shape)}; a dimension of a LoRA factor is at most {int.MaxValue}");
            (factor == 'A' ? a : b)[module] = tensor;
            if (!order.Contains(module))
                order.Add(module);
        }

        var modules = new List<KeyValuePair<string, LoraFactors>>(order.Count);
        foreach (var module in order)
        {
            if (!a.TryGetValue(module, out var ta))
                throw new AdapterFormatException($"module '{module}' has lora_B but no lora_A");
            if (!b.TryGetValue(module, out var tb))
                throw new AdapterFormatException($"module '{module}' has lora_A but no lora_B");
            if (ta.Shape[0] != tb.Shape[1])
                throw new AdapterFormatException($"module '{module}': lora_A is {TensorShape.Describe(ta.Shape)} and lora_B is {TensorShape.Describe(tb.Shape)}; their ranks differ");
            var matrixA = new Matrix((int)ta.Shape[0], (int)ta.Shape[1], ta.Data);
            var matrixB = new Matrix((int)tb.Shape[0], (int)tb.Shape[1], tb.Data);
            modules.Add(new(module, new LoraFactors(matrixA, matrixB)));
        }
        return new LoraAdapter(modules, scale);
    }
}
