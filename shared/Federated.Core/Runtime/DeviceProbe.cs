using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Federated.Core.Runtime;

/// <summary>What a machine offers for training, as a client reports it at enrolment.</summary>
public sealed record DeviceReport(string Kind, int CpuCores, long MemoryBytes, string AcceleratorName, double MeasuredGflops);

public static class DeviceProbe
{
    /// <summary>Describes the device and measures float32 matrix-multiply throughput on it for about <paramref name="budget"/>.</summary>
    public static DeviceReport Measure(Device device, TimeSpan budget)
    {
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var name = device.type == DeviceType.CUDA ? $"CUDA device {device.index}" : "";
        return new DeviceReport(device.type == DeviceType.CUDA ? "cuda" : "cpu", Environment.ProcessorCount, memory, name, MeasureGflops(device, budget));
    }

    public static double MeasureGflops(Device device, TimeSpan budget)
    {
        const int n = 256;
        using var scope = NewDisposeScope();
        var a = randn(n, n, device: device);
        var b = randn(n, n, device: device);
        a.matmul(b).sum().item<float>(); // warm up kernels and thread pools
        var stopwatch = Stopwatch.StartNew();
        long multiplies = 0;
        do
        {
            using var inner = NewDisposeScope();
            for (int i = 0; i < 8; i++)
                a.matmul(b);
            a.matmul(b).sum().item<float>(); // synchronises an accelerator
            multiplies += 9;
        }
        while (stopwatch.Elapsed < budget);
        return 2.0 * n * n * n * multiplies / stopwatch.Elapsed.TotalSeconds / 1e9;
    }
}
