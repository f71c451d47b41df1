namespace Federated.Core.Tensors;

/// <summary>Element types that cross the wire and the disk, named as in the safetensors format.</summary>
public enum TensorDType
{
    F32,
    F16,
    BF16,
    F64,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

public static class TensorDTypes
{
    public static int ElementSize(this TensorDType dtype) => dtype switch
    {
        TensorDType.F64 or TensorDType.I64 => 8,
        TensorDType.F32 or TensorDType.I32 => 4,
        TensorDType.F16 or TensorDType.BF16 or TensorDType.I16 => 2,
        TensorDType.I8 or TensorDType.U8 or TensorDType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    public static string ToSafeTensorsName(this TensorDType dtype) => dtype switch
    {
        TensorDType.Bool => "BOOL",
        _ => dtype.ToString(),
    };

    public static bool TryParse(string name, out TensorDType dtype)
    {
        switch (name)
        {
            case "F32": dtype = TensorDType.F32; return true;
            case "F16": dtype = TensorDType.F16; return true;
            case "BF16": dtype = TensorDType.BF16; return true;
            case "F64": dtype = TensorDType.F64; return true;
            case "I64": dtype = TensorDType.I64; return true;
            case "I32": dtype = TensorDType.I32; return true;
            case "I16": dtype = TensorDType.I16; return true;
            case "I8": dtype = TensorDType.I8; return true;
            case "U8": dtype = TensorDType.U8; return true;
            case "BOOL": dtype = TensorDType.Bool; return true;
            default: dtype = default; return false;
        }
    }
}
