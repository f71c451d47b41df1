using Federated.Core.Aggregation;

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

    public static async Task<IReadOnlyList<ModuleDifference>> DiffAsync(string first, string second, CancellationToken cancellationToken = default)
    {
        var a = await PeftAdapterDirectory.ReadAsync(first, cancellationToken).ConfigureAwait(false);
        var b = await PeftAdapterDirectory.ReadAsync(second, cancellationToken).ConfigureAwait(false);
        return AdapterComparison.Diff(a.Adapter, b.Adapter, first, second);
    }
}
