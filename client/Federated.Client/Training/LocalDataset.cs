using Federated.Client.Hosting;
using Federated.Core.Data;
using Federated.Core.Model;
using Federated.Core.Tokenizers;
using Microsoft.Extensions.Options;

namespace Federated.Client.Training;

/// <summary>
/// The client's private examples, loaded once (any supported JSONL format, a file or a folder); they never
/// leave the machine. Each task's base model tokenizes them with its own tokenizer and chat format.
/// </summary>
public sealed class LocalDataset(IOptions<ClientOptions> options)
{
    private readonly Lazy<IReadOnlyList<TextExample>> _examples = new(() => JsonlExamples.LoadPath(options.Value.DataPath));
    private readonly Dictionary<string, ModelTextFormat> _formats = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Model, int MaxLength), IReadOnlyList<TokenizedExample>> _tokenized = [];

    /// <summary>Loads the data now, so that a broken file stops the daemon at start with the file and line named.</summary>
    public int Count => _examples.Value.Count;

    /// <summary>The examples as <paramref name="baseModel"/>'s tokens; an <see cref="ArgumentException"/> if that model has no tokenizer.</summary>
    public IReadOnlyList<TokenizedExample> Tokenized(string baseModel, int maxSequenceLength)
    {
        lock (_tokenized)
        {
            if (!_tokenized.TryGetValue((baseModel, maxSequenceLength), out var examples))
            {
                if (!_formats.TryGetValue(baseModel, out var format))
                    _formats[baseModel] = format = ModelCatalog.TextFormat(baseModel);
                _tokenized[(baseModel, maxSequenceLength)] = examples = format.TokenizeAll(_examples.Value, maxSequenceLength);
            }
            return examples;
        }
    }
}
