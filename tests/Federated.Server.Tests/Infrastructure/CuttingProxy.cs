using System.Net;
using System.Net.Sockets;

namespace Federated.Server.Tests.Infrastructure;

/// <summary>
/// A TCP relay in front of a server that, while <see cref="CutAfterBytes"/> is set, resets every connection
/// once that many bytes have gone from client to server on it: a network that breaks mid-stream. With
/// the server down it resets connections at once, as a refused connection would. <see cref="CutAfterMoreBytes"/>
/// and <see cref="CutDownstreamAfterMoreBytes"/> arm one cut from now on, in either direction.
/// </summary>
public sealed class CuttingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly int _targetPort;
    private readonly Task _accepting;
    private bool _disposed;

    public CuttingProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public string Address => $"http://127.0.0.1:{Port}";

    public long? CutAfterBytes { get; set; }

    /// <summary>Once a connection is cut, cut every later one at its first byte (a network that stays down), until <see cref="CutAfterBytes"/> is set again.</summary>
    public bool StayDownAfterCut { get; set; }

    private long _budget = long.MaxValue;
    private long _downBudget = long.MaxValue;

    /// <summary>Resets the connection that carries the client's next <paramref name="bytes"/>+1st byte, counted from now over all connections.</summary>
    public void CutAfterMoreBytes(long bytes) => Interlocked.Exchange(ref _budget, bytes);

    /// <summary>The same for the bytes the server sends: a download broken on its way to the client.</summary>
    public void CutDownstreamAfterMoreBytes(long bytes) => Interlocked.Exchange(ref _downBudget, bytes);

    /// <summary>Completes when the first connection has been cut.</summary>
    public TaskCompletionSource Cut { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
                _ = RelayAsync(await _listener.AcceptTcpClientAsync(_stop.Token));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
                var up = PumpAsync(client.GetStream(), server.GetStream(), upstream: true);
                var down = PumpAsync(server.GetStream(), client.GetStream(), upstream: false);
                await Task.WhenAny(up, down);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
            {
            }
            client.LingerState = new LingerOption(true, 0); // close with a reset, as a broken network does
            server.LingerState = new LingerOption(true, 0);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool upstream)
    {
        var buffer = new byte[16 * 1024];
        long passed = 0;
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                if (upstream ? (CutAfterBytes is { } limit && passed + read > limit) || Interlocked.Add(ref _budget, -read) < 0 : Interlocked.Add(ref _downBudget, -read) < 0)
                {
                    if (upstream && StayDownAfterCut)
                        CutAfterBytes = 0;
                    Cut.TrySetResult();
                    return;
                }
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                passed += read;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Cuts every connection and stops listening (a test may do so early, standing for a server that died).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
