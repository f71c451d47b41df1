using System.Diagnostics;

namespace Federated.Simulations.Bench;

/// <summary>Samples this process's resident memory every 2 ms on a background thread and keeps the peak above the start.</summary>
public sealed class PeakMemorySampler : IDisposable
{
    private readonly long _start;
    private readonly Thread _thread;
    private volatile bool _stopped;
    private long _peak;

    public PeakMemorySampler()
    {
        _start = Resident();
        _peak = _start;
        _thread = new Thread(() =>
        {
            while (!_stopped)
            {
                var now = Resident();
                if (now > Interlocked.Read(ref _peak))
                    Interlocked.Exchange(ref _peak, now);
                Thread.Sleep(2);
            }
        }) { IsBackground = true, Name = "peak-memory" };
        _thread.Start();
    }

    /// <summary>Stops sampling and returns the peak resident bytes above the starting point.</summary>
    public long Stop()
    {
        _stopped = true;
        _thread.Join();
        return Math.Max(0, Interlocked.Read(ref _peak) - _start);
    }

    public void Dispose()
    {
        if (!_stopped)
            Stop();
    }

    private static long Resident()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
