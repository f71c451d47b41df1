using System.Net;
using System.Net.Sockets;

namespace Federated.Simulations.LocalRuns;

/// <summary>Loopback TCP ports that were free a moment ago: for in-process servers in runs and tests.</summary>
public static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static int OrNext(int port) => port > 0 ? port : Next();
}
