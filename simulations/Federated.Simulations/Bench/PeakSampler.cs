namespace Federated.Simulations.Bench;

/// <summary>Samples a reading (resident memory, C heap in use) every millisecond on a background thread and keeps its peak.</summary>
public sealed class PeakSampler : IDisposable
{
    private readonly Func<long> _read;
    private readonly Thread _thread;
    private volatile bool _stopped;
    private long _peak;

    public PeakSampler(Func<long> read)
    {
        _read = read;
        Start = read();
        _peak = Start;
        _thread = new Thread(() =>
        {
            while (!_stopped)
            {
                var now = _read();
                if (now > Interlocked.Read(ref _peak))
                    Interlocked.Exchange(ref _peak, now);
                Thread.Sleep(1);
            }
        }) { IsBackground = true, Name = "peak-sampler" };
        _thread.Start();
    }

    /// <summary>The reading when sampling began.</summary>
    public long Start { get; }

    /// <summary>Stops sampling and returns the peak reading.</summary>
    public long Stop()
    {
        _stopped = true;
        _thread.Join();
        return Interlocked.Read(ref _peak);
    }

    public void Dispose()
    {
        if (!_stopped)
            Stop();
    }
}
