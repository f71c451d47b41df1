using System.Net;
using System.Net.Sockets;

namespace Federated.Server.Hosting;

/// <summary>A port the server is configured to listen on is taken by another process; the message names the setting.</summary>
public sealed class PortInUseException(string setting, IPAddress address, int port, SocketException inner)
    // "address already in use" is in the message: starters that drew the ports themselves draw again on it.
    : IOException($"{setting}: port {port} on {address} is already in use (address already in use); stop what holds it or choose another port", inner)
{
    public string Setting { get; } = setting;

    public int Port { get; } = port;
}

/// <summary>
/// Before anything starts, binds each configured port once and lets it go: a taken gRPC or HTTP port would
/// otherwise stop the server with Kestrel's message naming no setting, and a taken silo port did not stop it at
/// all (the silo failed in the background while the doors opened). Runs in <c>StartingAsync</c>, ahead of every
/// hosted service's start. A port taken between this check and the real bind still fails there.
/// </summary>
public sealed class PortCheck(ServerOptions options) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        var listen = IPAddress.Parse(options.ListenAddress);
        Check("Server:GrpcPort", listen, options.GrpcPort);
        Check("Server:HttpPort", listen, options.HttpPort);
        if (options.Cluster.Mode == Cluster.ClusterMode.Local)
            Check("Server:SiloPort", IPAddress.Loopback, options.SiloPort); // a Local silo listens on loopback only
        else
        {
            // A cluster's silo listens on every interface, on both its fixed ports.
            Check("Server:SiloPort", IPAddress.Any, options.SiloPort);
            Check("Server:GatewayPort", IPAddress.Any, options.GatewayPort);
        }
        return Task.CompletedTask;
    }

    private static void Check(string setting, IPAddress address, int port)
    {
        if (port == 0)
            return; // any free port: nothing to collide with
        var probe = new TcpListener(address, port);
        try
        {
            probe.Start();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new PortInUseException(setting, address, port, e);
        }
        finally
        {
            probe.Stop();
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
