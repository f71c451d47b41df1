using Federated.Core.Aggregation;
using Federated.Core.Checkpoints;
using Federated.Core.Model;
using Federated.Core.Tensors;

namespace Federated.Core.Adapters.Peft;

/// <summary>
/// The operator's adapter verbs (`federated adapters …`) on PEFT directories, with the server's own
/// aggregation and compaction code.
/// </summary>
public static class AdapterTools
{
    /// <summary>Stacks adapters with weights (normalised to sum 1; equal when null) and writes the result.</summary>
    public static async Task<LoraAdapter> StackAsync(IReadOnlyList<string> directories, IReadOnlyList<double>? weights, string output, CancellationToken cancellationToken = default)
    {
        if (directories.Count == 0)
            throw new ArgumentException("give at least one adapter directory to stack");
        if (weights is not null && weights.Count != directories.Count)
            throw new ArgumentException($"{weights.Count} weights for {directories.Count} adapters; give one weight per adapter");
        var inputs = new List<WeightedAdapter>(directories.Count);
        string baseModel = "";
        for (int i = 0; i < directories.Count; i++)
        {
            var read = await PeftAdapterDirectory.ReadAsync(directories[i], cancellationToken).ConfigureAwait(false);
            baseModel = baseModel.Length > 0 ? baseModel : read.Config.BaseModel;
            inputs.Add(new WeightedAdapter(read.Adapter, weights?[i] ?? 1.0, directories[i]));
        }
        var stacked = StackingStrategy.Stack(inputs);
        await PeftAdapterDirectory.WriteAsync(output, stacked, baseModel, cancellationToken).ConfigureAwait(false);
        return stacked;
    }

    /// <summary>Compacts the sum of the adapters (one adapter, or the global updates of several rounds) and writes it.</summary>
    public static async Task<CompactionResult> CompactAsync(IReadOnlyList<string> directories, CompactionOptions options, string output, CancellationToken cancellationToken = default)
    {
        if (directories.Count == 0)
            throw new ArgumentException("give at least one adapter directory to compact");
        var adapters = new List<LoraAdapter>(directories.Count);
        string baseModel = "";
        foreach (var directory in directories)
        {
            var read = await PeftAdapterDirectory.ReadAsync(directory, cancellationToken).ConfigureAwait(false);
            baseModel = baseModel.Length > 0 ? baseModel : read.Config.BaseModel;
            adapters.Add(read.Adapter);
        }
        CompactionResult result;
        try
        {
            result = AdapterCompaction.Compact(adapters, options);
        }
        catch (AdapterFormatException e)
        {
            throw new AdapterFormatException($"{e.Message} (updates are numbered in the order given: {string.Join(", ", directories)})");
        }
        await PeftAdapterDirectory.WriteAsync(output, result.Adapter, baseModel, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Files of a Hugging Face model directory that travel with merged weights unchanged.</summary>
    private static readonly string[] CompanionFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "tokenizer.model"];

    /// <summary>
    /// Merges an adapter into a base model (a Hugging Face directory, a llama2.c file or a built-in model) and
    /// saves the merged model as a Hugging Face directory, with the base's tokenizer files.
    /// </summary>
    public static async Task<int> MergeAsync(string adapterDirectory, string baseModel, string output, TensorDType dtype, CancellationToken cancellationToken = default)
    {
        var adapter = (await PeftAdapterDirectory.ReadAsync(adapterDirectory, cancellationToken).ConfigureAwait(false)).Adapter;
        using var model = ModelCatalog.Load(baseModel, TorchSharp.torch.CPU);
        model.MergeAdapter(adapter);
        HuggingFaceCheckpoint.Save(model, output, dtype);
        if (Directory.Exists(baseModel))
        {
            foreach (var name in CompanionFiles.Where(n => File.Exists(Path.Combine(baseModel, n))))
                File.Copy(Path.Combine(baseModel, name), Path.Combine(output, name), overwrite: true);
        }
        return adapter.ModuleNames.Count;
    }

    public static async Task<IReadOnlyList<ModuleDifference>> DiffAsync(string first, string second, CancellationToken cancellationToken = default)
    {
        var a = await PeftAdapterDirectory.ReadAsync(first, cancellationToken).ConfigureAwait(false);
        var b = await PeftAdapterDirectory.ReadAsync(second, cancellationToken).ConfigureAwait(false);
        return AdapterComparison.Diff(a.Adapter, b.Adapter, first, second);
    }
}
