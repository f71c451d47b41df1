using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Federated.Core.Training;

/// <summary>
/// Number format of the matrix products during training. LoRA factors, norms, softmax and the loss stay f32
/// in every mode; bf16 and fp16 run the linear layers in that format, as autocast would.
/// </summary>
public enum TrainingPrecision
{
    /// <summary>bf16 on a CUDA device that supports it, f32 otherwise.</summary>
    Auto,
    F32,
    Bf16,

    /// <summary>fp16 with dynamic loss scaling against gradient underflow.</summary>
    Fp16,
}

public static class TrainingPrecisions
{
    /// <summary>Parses auto, f32, bf16 or fp16 (case-insensitive), naming the accepted values otherwise.</summary>
    public static TrainingPrecision Parse(string value, string field = "precision")
        => value.ToLowerInvariant() switch
        {
            "auto" or "" => TrainingPrecision.Auto,
            "f32" or "fp32" or "float32" => TrainingPrecision.F32,
            "bf16" or "bfloat16" => TrainingPrecision.Bf16,
            "fp16" or "f16" or "float16" => TrainingPrecision.Fp16,
            _ => throw new ArgumentException($"{field} '{value}' is not one of auto, f32, bf16, fp16"),
        };

    public static string Name(this TrainingPrecision precision) => precision.ToString().ToLowerInvariant();

    /// <summary>
    /// The format training runs in on <paramref name="device"/>: auto is bf16 on CUDA when a bf16 product runs
    /// there and f32 otherwise. On CPU only f32 is offered: libtorch's CPU half-precision kernels are slower than
    /// f32 and give nothing back.
    /// </summary>
    public static TrainingPrecision Resolve(this TrainingPrecision precision, Device device)
    {
        var cuda = device.type == DeviceType.CUDA;
        return precision switch
        {
            TrainingPrecision.Auto => cuda && Bf16Works(device) ? TrainingPrecision.Bf16 : TrainingPrecision.F32,
            TrainingPrecision.Bf16 or TrainingPrecision.Fp16 when !cuda => throw new ArgumentException(
                $"precision {precision.Name()} needs a CUDA device; training on {device.type.ToString().ToLowerInvariant()} runs in f32 (set precision to auto or f32)"),
            _ => precision,
        };
    }

    /// <summary>The tensor type of the matrix products, or null for f32.</summary>
    public static ScalarType? ComputeType(this TrainingPrecision resolved) => resolved switch
    {
        TrainingPrecision.Bf16 => ScalarType.BFloat16,
        TrainingPrecision.Fp16 => ScalarType.Float16,
        _ => null,
    };

    private static bool Bf16Works(Device device)
    {
        try
        {
            using var scope = NewDisposeScope();
            var a = ones([8, 8], ScalarType.BFloat16, device);
            return a.matmul(a).sum().item<float>() == 512f;
        }
        catch (Exception e) when (e is ExternalException or InvalidOperationException or ArgumentException)
        {
            return false;
        }
    }
}
