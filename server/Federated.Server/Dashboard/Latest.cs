namespace Federated.Server.Dashboard;

/// <summary>
/// The latest value of something many open pages follow: writers publish, each reader awaits the next version.
/// One producer per value, however many readers, so pages are pushed to and never poll the grains themselves.
/// </summary>
public sealed class Latest<T> where T : class
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _value;
    private long _version;

    public (T? Value, long Version) Current
    {
        get
        {
            lock (_gate)
                return (_value, _version);
        }
    }

    public void Publish(T value)
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            _value = value;
            _version++;
            previous = _next;
            _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        previous.TrySetResult();
    }

    /// <summary>The value once its version passes <paramref name="known"/>.</summary>
    public async Task<(T Value, long Version)> NextAsync(long known, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task next;
            lock (_gate)
            {
                if (_version > known && _value is not null)
                    return (_value, _version);
                next = _next.Task;
            }
            await next.WaitAsync(cancellationToken);
        }
    }
}
