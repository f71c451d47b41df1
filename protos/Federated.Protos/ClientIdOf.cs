using Federated.Protos.V1;
using Google.Protobuf;

namespace Federated.Protos;

/// <summary>The client a Coordinator message names: its client_id field, or an upload header's.</summary>
public static class ClientIdOf
{
    public static string? Message(object? message) => message switch
    {
        UploadUpdateRequest { Header: { } header } => header.ClientId,
        IMessage m when m.Descriptor.FindFieldByName("client_id") is { } field => field.Accessor.GetValue(m) as string,
        _ => null,
    };
}
