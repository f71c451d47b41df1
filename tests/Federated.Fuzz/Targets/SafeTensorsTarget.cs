using System.Text;
using Federated.Core.Adapters;
using Federated.Core.Tensors;

namespace Federated.Fuzz.Targets;

/// <summary>
/// A whole safetensors payload as a downloaded adapter or checkpoint is read: header, tensors, then the adapter
/// built from them. Bad input is <see cref="SafeTensorsFormatException"/> or <see cref="AdapterFormatException"/>.
/// </summary>
public sealed class SafeTensorsTarget : IFuzzTarget
{
    public string Name => "safetensors";

    public bool Run(ReadOnlySpan<byte> input)
    {
        try
        {
            using var stream = new MemoryStream(input.ToArray(), writable: false);
            var (header, tensors) = SafeTensorsFile.ReadAsync(stream, input.Length).GetAwaiter().GetResult();
            _ = AdapterSerializer.ModuleNames(header);
            _ = AdapterSerializer.FromTensors(header, tensors);
            return true;
        }
        catch (SafeTensorsFormatException e)
        {
            return Refusal.Note(e);
        }
        catch (AdapterFormatException e)
        {
            return Refusal.Note(e);
        }
    }

    public IReadOnlyList<(string Name, byte[] Bytes)> Seeds() =>
    [
        ("adapter.safetensors", AdapterSerializer.ToBytes(Adapters.Small())),
        ("f16.safetensors", Payload("""{"__metadata__":{"federated.scale":"2"},"base_model.model.m.lora_A.weight":{"dtype":"F16","shape":[1,2],"data_offsets":[0,4]},"base_model.model.m.lora_B.weight":{"dtype":"BF16","shape":[2,1],"data_offsets":[4,8]}}""", 8)),
        ("no-modules.safetensors", Payload("""{"__metadata__":{"federated.scale":"0.5"}}""", 0)),
    ];

    /// <summary>A payload with the given header JSON and that many data bytes (small values, so finite in every dtype).</summary>
    internal static byte[] Payload(string json, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)header.Length);
        header.CopyTo(bytes, 8);
        bytes.AsSpan(8 + header.Length).Fill(0x10);
        return bytes;
    }
}
