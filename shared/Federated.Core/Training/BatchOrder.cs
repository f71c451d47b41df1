using Federated.Core.Randomness;

namespace Federated.Core.Training;

/// <summary>
/// Epochs of seeded shuffles; batches run across epoch ends. Grouping by length sorts a window of
/// up to 16 batches' worth of shuffled examples by length, cuts it into batches and
/// serves those in shuffled order, so batches hold examples of similar length and pad little.
/// </summary>
public sealed class BatchOrder(IReadOnlyList<int> lengths, ulong seed, bool groupByLength)
{
    private const int WindowBatches = 16;
    private readonly DeterministicRandom _random = new(seed);
    private readonly Queue<int[]> _ready = new();
    private int[] _order = [];
    private int _position;

    /// <summary>Indices of the next batch: <paramref name="size"/> examples, or all of them if there are fewer.</summary>
    public int[] Next(int size)
    {
        if (!groupByLength || size >= lengths.Count)
            return Draw(size);
        if (_ready.Count == 0)
        {
            var window = Draw(size * Math.Min(WindowBatches, lengths.Count / size)).OrderBy(i => lengths[i]).ToArray();
            var batches = window.Chunk(size).ToArray();
            Shuffle(batches);
            foreach (var b in batches)
                _ready.Enqueue(b);
        }
        return _ready.Dequeue();
    }

    private int[] Draw(int size)
    {
        var result = new int[Math.Min(size, lengths.Count)];
        for (int i = 0; i < result.Length; i++)
        {
            if (_position == _order.Length)
            {
                _order = Enumerable.Range(0, lengths.Count).ToArray();
                Shuffle(_order);
                _position = 0;
            }
            result[i] = _order[_position++];
        }
        return result;
    }

    private void Shuffle<T>(T[] items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            var j = (int)(_random.NextUInt64() % (ulong)(i + 1));
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
