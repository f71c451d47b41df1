using Federated.Core.Tensors;

namespace Federated.Core.Adapters.Peft;

/// <summary>
/// Reads and writes Hugging Face PEFT LoRA adapter directories (adapter_config.json +
/// adapter_model.safetensors), so adapters go to and come from PEFT, vLLM and llama.cpp's converter.
/// Writing folds each module's scale into its B factor and sets lora_alpha = r (per module through
/// rank_pattern/alpha_pattern where ranks differ), so PEFT applies exactly the update this adapter means:
/// for a stacked global adapter, Σ p_k s_k B_k A_k.
/// </summary>
public static class PeftAdapterDirectory
{
    public const string WeightsFileName = "adapter_model.safetensors";

    public static async Task WriteAsync(string directory, LoraAdapter adapter, string baseModel = "", CancellationToken cancellationToken = default)
    {
        if (adapter.ModuleNames.Count == 0)
            throw new AdapterFormatException("an adapter with no modules cannot be exported");
        Directory.CreateDirectory(directory);
        var folded = Fold(adapter);
        var ranks = folded.ModuleNames.Select(m => folded[m].Rank).ToList();
        var rank = ranks.GroupBy(r => r).OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key).First().Key;
        var rankPattern = new Dictionary<string, int>(StringComparer.Ordinal);
        var alphaPattern = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var module in folded.ModuleNames)
        {
            var moduleRank = folded[module].Rank;
            if (moduleRank != rank)
            {
                // A full module name, regex-escaped, matches only itself under PEFT's pattern rule.
                var key = System.Text.RegularExpressions.Regex.Escape(module);
                rankPattern[key] = moduleRank;
                alphaPattern[key] = moduleRank;
            }
        }
        var config = new PeftAdapterConfig
        {
            Rank = rank,
            Alpha = rank,
            BaseModel = baseModel,
            TargetModules = folded.ModuleNames.Select(m => m[(m.LastIndexOf('.') + 1)..]).Distinct().Order(StringComparer.Ordinal).ToArray(),
            RankPattern = rankPattern,
            AlphaPattern = alphaPattern,
        };
        await File.WriteAllTextAsync(Path.Combine(directory, PeftAdapterConfig.FileName), config.ToJson(), cancellationToken).ConfigureAwait(false);
        await using var stream = new FileStream(Path.Combine(directory, WeightsFileName), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        await SafeTensorsFile.WriteAsync(stream, AdapterSerializer.ToTensors(folded), new Dictionary<string, string> { ["format"] = "pt" }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads a PEFT LoRA directory. Each module gets PEFT's scaling; when all modules share one, it becomes
    /// the adapter's scale, otherwise each is folded into its module's B and the scale is 1.
    /// </summary>
    public static async Task<PeftAdapter> ReadAsync(string directory, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(directory))
            throw new AdapterFormatException($"{directory}: no such adapter directory");
        var configPath = Path.Combine(directory, PeftAdapterConfig.FileName);
        if (!File.Exists(configPath))
            throw new AdapterFormatException($"{directory}: {PeftAdapterConfig.FileName} is missing (not a PEFT adapter directory)");
        var config = PeftAdapterConfig.Parse(await File.ReadAllTextAsync(configPath, cancellationToken).ConfigureAwait(false), configPath);
        var weightsPath = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(weightsPath))
        {
            var legacy = File.Exists(Path.Combine(directory, "adapter_model.bin")) ? " (adapter_model.bin is a pickle; save it with safe_serialization=True)" : "";
            throw new AdapterFormatException($"{directory}: {WeightsFileName} is missing{legacy}");
        }

        IReadOnlyList<NamedTensor> tensors;
        try
        {
            (_, tensors) = await SafeTensorsFile.ReadFileAsync(weightsPath, cancellationToken).ConfigureAwait(false);
        }
        catch (SafeTensorsFormatException e)
        {
            throw new AdapterFormatException($"{weightsPath}: {e.Message}");
        }
        foreach (var tensor in tensors)
        {
            if (!AdapterTensorNames.TryParse(tensor.Name, out _, out _))
                throw new AdapterFormatException($"{weightsPath}: tensor '{tensor.Name}' is not a LoRA factor of a linear layer (expected base_model.model.<module>.lora_A.weight or .lora_B.weight)");
            if (tensor.Data.Any(v => !float.IsFinite(v)))
                throw new AdapterFormatException($"{weightsPath}: tensor '{tensor.Name}' holds NaN or infinite values");
        }
        LoraAdapter raw;
        try
        {
            raw = AdapterSerializer.FromTensors(tensors, 1.0);
        }
        catch (AdapterFormatException e)
        {
            throw new AdapterFormatException($"{weightsPath}: {e.Message}");
        }
        foreach (var module in raw.ModuleNames)
        {
            if (raw[module].Rank != config.RankOf(module))
                throw new AdapterFormatException($"{weightsPath}: module '{module}' has rank {raw[module].Rank} but {PeftAdapterConfig.FileName} gives it r = {config.RankOf(module)}");
        }

        var scalings = raw.ModuleNames.Select(config.ScalingOf).Distinct().ToList();
        var adapter = scalings.Count == 1
            ? new LoraAdapter(raw.Modules.Select(m => m), scalings[0])
            : new LoraAdapter(raw.ModuleNames.Select(m => new KeyValuePair<string, LoraFactors>(m, ScaleB(raw[m], config.ScalingOf(m)))), 1.0);
        return new PeftAdapter(adapter, config);
    }

    /// <summary>The same update with scale 1: every module's B multiplied by the adapter's scale.</summary>
    public static LoraAdapter Fold(LoraAdapter adapter)
        => adapter.Scale == 1.0 ? adapter : new LoraAdapter(adapter.ModuleNames.Select(m => new KeyValuePair<string, LoraFactors>(m, ScaleB(adapter[m], adapter.Scale))), 1.0);

    private static LoraFactors ScaleB(LoraFactors factors, double scale)
    {
        var b = new Matrix(factors.OutFeatures, factors.Rank);
        System.Numerics.Tensors.TensorPrimitives.Multiply(factors.B.Data, (float)scale, b.Data);
        return new LoraFactors(factors.A, b);
    }
}

/// <summary>An adapter read from a PEFT directory, with the configuration it came with.</summary>
public sealed record PeftAdapter(LoraAdapter Adapter, PeftAdapterConfig Config);
