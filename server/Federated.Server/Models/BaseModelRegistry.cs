using System.Collections.Concurrent;
using Federated.Contracts.Errors;
using Federated.Core.Model;
using Federated.Core.Runtime;
using Federated.Core.Tokenizers;
using static TorchSharp.torch;

namespace Federated.Server.Models;

/// <summary>The server's view of base models: their architecture, tokenizer and a cached fingerprint of their weights.</summary>
public sealed class BaseModelRegistry
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _fingerprints = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<ModelTextFormat>> _textFormats = new(StringComparer.Ordinal);

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

    /// <summary>
    /// The model's tokenizer and chat format (see <see cref="ModelCatalog.TextFormat"/>), loaded once; an
    /// <see cref="ArgumentException"/> naming the reference if it has none. A failed load is not kept.
    /// </summary>
    public ModelTextFormat TextFormat(string reference)
    {
        var entry = _textFormats.GetOrAdd(reference, r => new Lazy<ModelTextFormat>(() => ModelCatalog.TextFormat(r)));
        try
        {
            return entry.Value;
        }
        catch
        {
            _textFormats.TryRemove(new KeyValuePair<string, Lazy<ModelTextFormat>>(reference, entry));
            throw;
        }
    }

    public LlamaForCausalLM Load(string reference) => ModelCatalog.Load(reference, CPU);
}
