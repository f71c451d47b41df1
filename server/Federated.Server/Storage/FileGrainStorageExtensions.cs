using Federated.Server.Jobs;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Storage;

namespace Federated.Server.Storage;

public static class FileGrainStorageExtensions
{
    /// <summary>
    /// Registers a <see cref="FileGrainStorage"/> under <paramref name="name"/>, keeping files under <paramref name="rootDirectory"/>;
    /// damaged files it finds are recorded in <see cref="DamagedStateFiles"/> and answered by <see cref="StateDamageResponse"/>.
    /// </summary>
    public static ISiloBuilder AddFileGrainStorage(this ISiloBuilder builder, string name, string rootDirectory)
    {
        builder.Services.TryAddSingleton<DamagedStateFiles>();
        builder.Services.TryAddSingleton<StateDamageResponse>();
        builder.Services.AddFederatedGrainStateSerializer();
        builder.Services.AddKeyedSingleton<IGrainStorage>(name, (services, _) =>
            new FileGrainStorage(
                name,
                rootDirectory,
                services.GetRequiredService<IGrainStorageSerializer>(),
                services.GetRequiredService<ILogger<FileGrainStorage>>(),
                services.GetRequiredService<DamagedStateFiles>(),
                services.GetRequiredService<TimeProvider>(),
                // Resolved at the first damage: the grain factory is not built yet when storage is.
                damage => services.GetRequiredService<StateDamageResponse>().HandleAsync(damage),
                FileGrainStorage.Mirrored));
        return builder;
    }
}
