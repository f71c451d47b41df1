using MessagePack;
using MessagePack.Resolvers;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Storage;

namespace Federated.Server.Storage;

/// <summary>
/// Grain state as MessagePack (MessagePack-CSharp 2.5), for every storage provider: the file storage here, and
/// Orleans' AdoNet provider when it is given this through <c>AdoNetGrainStorageOptions.GrainStorageSerializer</c>.
/// </summary>
/// <remarks>
/// Contractless (maps keyed by property name): the state types in Core and Contracts carry no MessagePack
/// attributes, a renamed or added property reads as its default instead of shifting every later field, and
/// a payload stays readable by <see cref="MessagePackSerializer.ConvertToJson(ReadOnlyMemory{byte}, MessagePackSerializerOptions, CancellationToken)"/>
/// for an operator. Enums are written as their names for the same reason (reordering an enum changes nothing
/// on disk). Standard's formatters (DateTimeOffset with its offset, nullables, arrays, dictionaries, lists)
/// come before the contractless object resolver. The policy's state stays a JSON string inside the scheduler's
/// state: it is polymorphic through System.Text.Json's discriminator, which MessagePack would need [Union]
/// attributes on Core's types to reproduce.
/// </remarks>
public sealed class MessagePackGrainStateSerializer : IGrainStorageSerializer
{
    /// <summary>The options every state is written and read with (also what tests and the bench use).</summary>
    public static MessagePackSerializerOptions Options { get; } = MessagePackSerializerOptions.Standard
        .WithResolver(CompositeResolver.Create(
            BuiltinResolver.Instance,
            AttributeFormatterResolver.Instance,
            DynamicEnumAsStringResolver.Instance,
            ContractlessStandardResolver.Instance))
        .WithSecurity(MessagePackSecurity.TrustedData); // our own files and database rows, written by this code

    public BinaryData Serialize<T>(T? input) => new(MessagePackSerializer.Serialize(input, Options));

    /// <exception cref="MessagePackSerializationException">The bytes are not a MessagePack <typeparamref name="T"/>.</exception>
    public T Deserialize<T>(BinaryData input) => MessagePackSerializer.Deserialize<T>(input.ToMemory(), Options);
}

public static class GrainStateSerializerExtensions
{
    /// <summary>
    /// Registers <see cref="MessagePackGrainStateSerializer"/> once, as itself and as the silo's default
    /// <see cref="IGrainStorageSerializer"/>: Orleans' own default (JSON, added with TryAdd when the silo is
    /// configured) is replaced, whichever of the two is registered first, so a provider that takes the default
    /// from DI (AdoNet's, when its options name none) writes MessagePack too.
    /// </summary>
    public static IServiceCollection AddFederatedGrainStateSerializer(this IServiceCollection services)
    {
        services.TryAddSingleton<MessagePackGrainStateSerializer>();
        services.RemoveAll<IGrainStorageSerializer>();
        services.AddSingleton<IGrainStorageSerializer>(s => s.GetRequiredService<MessagePackGrainStateSerializer>());
        return services;
    }
}
