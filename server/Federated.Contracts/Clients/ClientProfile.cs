namespace Federated.Contracts.Clients;

/// <summary>A client's machine as it reported at enrolment.</summary>
[GenerateSerializer]
[Immutable]
public sealed record ClientProfile
{
    /// <summary>"cpu" or "cuda".</summary>
    [Id(0)]
    public required string Device { get; init; }

    [Id(1)]
    public int CpuCores { get; init; }

    [Id(2)]
    public long MemoryBytes { get; init; }

    [Id(3)]
    public string AcceleratorName { get; init; } = "";

    [Id(4)]
    public long AcceleratorMemoryBytes { get; init; }

    /// <summary>float32 matrix-multiply throughput measured by the client at start-up.</summary>
    [Id(5)]
    public double MeasuredGflops { get; init; }

    [Id(6)]
    public string ClientVersion { get; init; } = "";

    [Id(7)]
    public Dictionary<string, string> Labels { get; init; } = [];

    /// <summary>The training device's memory in GiB: GPU memory on a CUDA client, else system memory; null if unknown.</summary>
    public double? TrainingMemoryGiB
    {
        get
        {
            var bytes = AcceleratorMemoryBytes > 0 ? AcceleratorMemoryBytes : MemoryBytes;
            return bytes > 0 ? bytes / (double)(1L << 30) : null;
        }
    }
}
