using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Federated.Simulations.LocalRuns;

/// <summary>
/// Loopback TCP ports that were free a moment ago, for in-process servers in runs and tests. They are drawn
/// below Linux's ephemeral range (32768 and up), so the outgoing connections of other tests and processes
/// cannot take one between the draw and the bind, and a process never hands the same port out twice.
/// A port can still be taken by another process that draws the same one: <see cref="IsAddressInUse"/> lets a
/// starter try again with new ports.
/// </summary>
public static class FreePorts
{
    private const int Lowest = 20_000, Highest = 32_000;
    private static readonly ConcurrentDictionary<int, bool> HandedOut = new();

    public static int Next()
    {
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(Lowest, Highest);
            if (!HandedOut.TryAdd(port, true))
                continue;
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // in use by someone else: draw again
            }
        }
        throw new InvalidOperationException($"found no free loopback port between {Lowest} and {Highest}");
    }

    public static int OrNext(int port) => port > 0 ? port : Next();

    /// <summary>True when <paramref name="exception"/> (or one it wraps) says an address was already in use.</summary>
    public static bool IsAddressInUse(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
                return true;
            if (e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                return true;
            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsAddressInUse))
                return true;
        }
        return false;
    }
}
