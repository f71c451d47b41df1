using Federated.Client.Hosting;
using Federated.Core.Data;
using Microsoft.Extensions.Options;

namespace Federated.Client.Training;

/// <summary>The client's private examples, loaded once; they never leave the machine.</summary>
public sealed class LocalDataset(IOptions<ClientOptions> options)
{
    private readonly Lazy<IReadOnlyList<TextExample>> _examples = new(() => JsonlExamples.LoadPath(options.Value.DataPath));
    private readonly Dictionary<int, IReadOnlyList<TokenizedExample>> _tokenized = [];

    /// <summary>Loads the data now, so that a broken file stops the daemon at start with the file and line named.</summary>
    public int Count => _examples.Value.Count;

    public IReadOnlyList<TokenizedExample> Tokenized(int maxSequenceLength)
    {
        lock (_tokenized)
        {
            if (!_tokenized.TryGetValue(maxSequenceLength, out var examples))
                _tokenized[maxSequenceLength] = examples = TokenizedExample.FromAll(_examples.Value, maxSequenceLength);
            return examples;
        }
    }
}
