using Federated.Contracts.Clients;

namespace Federated.Simulations.LocalRuns;

/// <summary>
/// Many enrolled clients without daemons: enrols them straight through the client grains of an in-process
/// server, a batch of grain calls at a time, as the dashboard's scale tests and `federated bench --only dashboard` do.
/// </summary>
public static class VirtualClients
{
    /// <summary>Every tenth client is a CUDA machine.</summary>
    public const string Accelerator = "NVIDIA A100";

    public const string Version = "1.0.0-virtual";

    public static string Name(int index) => $"virtual-{index:D5}";

    /// <summary>Each client's one label: site-0 to site-3 in turn.</summary>
    public static string Site(int index) => $"site-{index % 4}";

    public static ClientProfile Profile(int index) => (index % 10 == 0
        ? new ClientProfile { Device = "cuda", CpuCores = 16, MemoryBytes = 64L << 30, AcceleratorName = Accelerator, AcceleratorMemoryBytes = 40L << 30, MeasuredGflops = 10_000 }
        : new ClientProfile { Device = "cpu", CpuCores = 4 + index % 4, MemoryBytes = 16L << 30, MeasuredGflops = 50 + index % 50 })
        with { ClientVersion = Version, Labels = new() { ["site"] = Site(index) } };

    /// <summary>Enrols clients <see cref="Name"/>(0) to (<paramref name="count"/> - 1).</summary>
    public static async Task EnrolAsync(IGrainFactory grains, int count, int batch = 500, CancellationToken cancellationToken = default)
    {
        for (int start = 0; start < count; start += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var end = Math.Min(count, start + batch);
            await Task.WhenAll(Enumerable.Range(start, end - start).Select(i => grains.GetGrain<IClientGrain>(Name(i)).Enrol(Profile(i))));
        }
    }
}
