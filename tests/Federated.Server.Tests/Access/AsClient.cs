using Federated.Protos.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Federated.Server.Tests.Access;

/// <summary>Coordinator clients that present a chosen authorization on every call (or none), for probing who may do what.</summary>
public static class AsClient
{
    public static Coordinator.CoordinatorClient With(ChannelBase channel, string? credential)
        => new(channel.Intercept(metadata =>
        {
            if (credential is not null)
                metadata.Add("authorization", "Bearer " + credential);
            return metadata;
        }));

    /// <summary>A first enrolment with no credential; the credential it returns.</summary>
    public static async Task<string> EnrolNew(ChannelBase channel, string clientId, string? joinToken = null)
    {
        var reply = await With(channel, null).EnrolAsync(new EnrolRequest { ClientId = clientId, JoinToken = joinToken ?? "" });
        Assert.StartsWith("fcc1." + clientId + ".", reply.Credential);
        return reply.Credential;
    }
}
