using Grpc.Core;
using Grpc.Net.Client;

namespace Federated.Protos;

/// <summary>Channels to the coordinator, optionally carrying a shared token as "authorization: Bearer …" on every call.</summary>
public static class GrpcChannels
{
    public static GrpcChannel Create(string address, string? token = null, GrpcChannelOptions? options = null)
    {
        options ??= new GrpcChannelOptions();
        if (!string.IsNullOrEmpty(token))
        {
            var secure = address.StartsWith("https", StringComparison.OrdinalIgnoreCase);
            var bearer = CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("authorization", "Bearer " + token);
                return Task.CompletedTask;
            });
            options.Credentials = ChannelCredentials.Create(secure ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure, bearer);
            // Plain HTTP/2 on a trusted network is a supported deployment; the README says when to use TLS.
            options.UnsafeUseInsecureChannelCallCredentials = true;
        }
        return GrpcChannel.ForAddress(address, options);
    }
}
