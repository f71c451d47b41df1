using System.Collections.Concurrent;
using Federated.Contracts.Errors;
using Federated.Core.Model;
using Federated.Core.Runtime;
using static TorchSharp.torch;

namespace Federated.Server.Models;

/// <summary>The server's view of base models: their architecture and a cached fingerprint of their weights.</summary>
public sealed class BaseModelRegistry
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _fingerprints = new(StringComparer.Ordinal);

    public LlamaConfig Describe(string reference)
    {
        try
        {
            return ModelCatalog.Describe(reference);
        }
        catch (ArgumentException e)
        {
            throw FederatedException.Invalid(e.Message);
        }
    }

    public Task<string> FingerprintAsync(string reference)
    {
        Describe(reference);
        return _fingerprints.GetOrAdd(reference, r => new Lazy<Task<string>>(() => ComputeThread.Run(() =>
        {
            using var model = ModelCatalog.Load(r, CPU);
            return model.Fingerprint();
        }))).Value;
    }

    public LlamaForCausalLM Load(string reference) => ModelCatalog.Load(reference, CPU);
}
