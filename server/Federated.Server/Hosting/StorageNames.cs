namespace Federated.Server.Hosting;

/// <summary>Names of the silo's storage providers.</summary>
public static class StorageNames
{
    /// <summary>Grain state (jobs, schedulers, clients, directories).</summary>
    public const string State = "state";
}
