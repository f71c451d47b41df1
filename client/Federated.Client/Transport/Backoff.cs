namespace Federated.Client.Transport;

/// <summary>Exponential backoff with full jitter between reconnection attempts.</summary>
public sealed class Backoff(TimeSpan minimum, TimeSpan maximum)
{
    private int _failures;

    public TimeSpan Next()
    {
        var ceiling = Math.Min(maximum.TotalSeconds, minimum.TotalSeconds * Math.Pow(2, Math.Min(_failures, 30)));
        _failures++;
        return TimeSpan.FromSeconds(minimum.TotalSeconds + Random.Shared.NextDouble() * Math.Max(0, ceiling - minimum.TotalSeconds));
    }

    public void Reset() => _failures = 0;
}
