using Federated.Core.Adapters;
using Federated.Core.Model;
using static TorchSharp.torch;

namespace Federated.Client.Training;

/// <summary>
/// The client's copy of a job's global model: the base weights with the job's global updates merged in,
/// in order. FLoRA merges each round's stacked update into the base and trains a fresh LoRA on top.
/// </summary>
public sealed class ModelWorkspace : IDisposable
{
    private readonly List<string> _merged = [];
    private string? _fingerprint;

    public ModelWorkspace(string jobId, string baseModel, Device device)
    {
        JobId = jobId;
        BaseModel = baseModel;
        try
        {
            Model = ModelCatalog.Load(baseModel, device);
        }
        catch (ArgumentException e)
        {
            throw new TaskRejectedException(e.Message, e);
        }
    }

    public string JobId { get; }

    public string BaseModel { get; }

    public LlamaForCausalLM Model { get; }

    /// <summary>Hashes of the merged global updates, oldest first.</summary>
    public IReadOnlyList<string> Merged => _merged;

    /// <summary>The base weights' fingerprint, computed before any merge.</summary>
    public string BaseFingerprint => _fingerprint ??= Model.Fingerprint();

    /// <summary>True when this workspace's merges are a prefix of <paramref name="updates"/>, so it can catch up by merging the rest.</summary>
    public bool CanReach(IReadOnlyList<string> updates)
        => _merged.Count <= updates.Count && _merged.SequenceEqual(updates.Take(_merged.Count));

    public void Merge(string sha256, LoraAdapter update)
    {
        _ = BaseFingerprint;
        Model.MergeAdapter(update);
        _merged.Add(sha256);
    }

    /// <summary>Merges one compacted update standing for <paramref name="covers"/> (their sum), as if each had been merged.</summary>
    public void MergeCompacted(IReadOnlyList<string> covers, LoraAdapter compacted)
    {
        _ = BaseFingerprint;
        Model.MergeAdapter(compacted);
        _merged.AddRange(covers);
        CompactedMerges++;
    }

    /// <summary>How many times this workspace caught up with a compacted update.</summary>
    public int CompactedMerges { get; private set; }

    public void Dispose() => Model.Dispose();
}
