using Orleans.Storage;

namespace Federated.Server.Storage;

public static class FileGrainStorageExtensions
{
    /// <summary>Registers a <see cref="FileGrainStorage"/> under <paramref name="name"/>, keeping files under <paramref name="rootDirectory"/>.</summary>
    public static ISiloBuilder AddFileGrainStorage(this ISiloBuilder builder, string name, string rootDirectory)
    {
        builder.Services.AddKeyedSingleton<IGrainStorage>(name, (services, _) =>
            new FileGrainStorage(name, rootDirectory, services.GetRequiredService<ILogger<FileGrainStorage>>()));
        return builder;
    }
}
