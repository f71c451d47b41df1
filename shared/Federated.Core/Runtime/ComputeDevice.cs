using static TorchSharp.torch;

namespace Federated.Core.Runtime;

/// <summary>Where tensors live: chosen once, at the edge, from configuration.</summary>
public enum ComputeDevice
{
    /// <summary>CUDA when a GPU and a CUDA build of libtorch are present, else CPU.</summary>
    Auto,
    Cpu,
    Cuda,
}

public static class ComputeDevices
{
    public static bool CudaAvailable => cuda.is_available();

    public static Device Resolve(ComputeDevice choice) => choice switch
    {
        ComputeDevice.Cpu => CPU,
        ComputeDevice.Cuda when CudaAvailable => CUDA,
        ComputeDevice.Cuda => throw new InvalidOperationException(
            "device 'cuda' was configured but CUDA is not available: build with -p:TorchBackend=cuda on a machine with an NVIDIA driver, or set the device to 'auto' or 'cpu'"),
        _ => CudaAvailable ? CUDA : CPU,
    };
}
