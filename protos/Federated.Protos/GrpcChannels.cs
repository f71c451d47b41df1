using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Federated.Protos;

/// <summary>
/// Channels to the coordinator, optionally carrying a shared token as "authorization: Bearer …" on every call, and
/// for https addresses optionally trusting the coordinator's own CA (<see cref="ServerTrust"/>) instead of the
/// system's trust store.
/// </summary>
public static class GrpcChannels
{
    /// <param name="address">One address, or several separated by commas (<see cref="CoordinatorAddresses"/>).</param>
    /// <param name="token">Sent as "authorization: Bearer …" on every call when set.</param>
    /// <param name="options">Channel options; a <see cref="SocketsHttpHandler"/> in HttpHandler gets the trust check.</param>
    /// <param name="trust">The CA to trust for https addresses; null: the system's trust store (<see cref="ServerTrust.SystemStore"/>).</param>
    /// <exception cref="FormatException">The address list is malformed.</exception>
    public static GrpcChannel Create(string address, string? token = null, GrpcChannelOptions? options = null, ServerTrust? trust = null)
        => Create(CoordinatorAddresses.Parse(address), token, options, trust);

    /// <summary>
    /// With several addresses the channel balances pick_first over a static list: it connects to the first that
    /// answers and, when that connection is lost, to the first that answers again, so a dead silo is passed over
    /// on the next call. The call that was in flight on the lost connection still fails (Unavailable or Internal);
    /// the caller's own retry sends it again, then through the next address.
    /// </summary>
    public static GrpcChannel Create(CoordinatorAddresses addresses, string? token = null, GrpcChannelOptions? options = null, ServerTrust? trust = null)
        => Create(addresses, string.IsNullOrEmpty(token) ? null : () => token, options, trust);

    /// <param name="token">Read on every call (a daemon's credential appears after its first enrolment); null or empty: none sent.</param>
    public static GrpcChannel Create(CoordinatorAddresses addresses, Func<string?>? token, GrpcChannelOptions? options = null, ServerTrust? trust = null)
    {
        options ??= new GrpcChannelOptions();
        // With no trust given the system's store decides, as it would without a callback; the callback only adds
        // what to set when it refuses.
        if (addresses.Secure && (trust is not null || options.HttpClient is null && options.HttpHandler is null or SocketsHttpHandler))
            Trust(options, addresses, trust ?? ServerTrust.SystemStore);
        var transport = addresses.Secure ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure;
        if (token is not null)
        {
            var bearer = CallCredentials.FromInterceptor((_, metadata) =>
            {
                if (token() is { Length: > 0 } current)
                    metadata.Add("authorization", "Bearer " + current);
                return Task.CompletedTask;
            });
            options.Credentials = ChannelCredentials.Create(transport, bearer);
            // Plain HTTP/2 on a trusted network is a supported deployment; the README says when to use TLS.
            options.UnsafeUseInsecureChannelCallCredentials = true;
        }
        if (addresses.Addresses.Count == 1)
            return GrpcChannel.ForAddress(addresses.Addresses[0], options);

        // A "static" address carries no scheme, so the credentials say whether the connections are TLS.
        options.Credentials ??= transport;
        var endpoints = addresses.Addresses.Select(a => new BalancerAddress(a.IdnHost, a.Port)).ToList();
        options.ServiceProvider = new ServiceCollection()
            .AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => endpoints))
            .BuildServiceProvider();
        options.ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new PickFirstConfig() } };
        return GrpcChannel.ForAddress("static:///coordinator", options);
    }

    /// <summary>Puts the trust check on the channel's handler (made here when the caller brought none).</summary>
    private static void Trust(GrpcChannelOptions options, CoordinatorAddresses addresses, ServerTrust trust)
    {
        if (options.HttpHandler is null && options.HttpClient is null)
            options.HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        if (options.HttpHandler is not SocketsHttpHandler sockets)
            throw new ArgumentException("a CA to trust needs the channel's HttpHandler to be a SocketsHttpHandler (or none)", nameof(options));
        trust.ApplyTo(sockets, addresses);
    }
}
