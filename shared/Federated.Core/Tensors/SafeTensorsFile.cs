using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Federated.Core.Tensors;

/// <summary>Writes and reads whole safetensors payloads of float tensors.</summary>
public static class SafeTensorsFile
{
    private const int CopyBlockBytes = 1 << 20;

    public static async Task WriteAsync(Stream stream, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        EnsureLittleEndian();
        foreach (var tensor in tensors)
        {
            if (tensor.ElementCount != tensor.Data.Length)
                throw new ArgumentException($"tensor '{tensor.Name}' has shape {TensorShape.Describe(tensor.Shape)} but {tensor.Data.Length} values", nameof(tensors));
        }
        var (_, header) = SafeTensorsHeader.Create(tensors.Select(t => (t.Name, TensorDType.F32, t.Shape)), metadata);
        await stream.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBlockBytes);
        try
        {
            foreach (var tensor in tensors)
            {
                var total = tensor.Data.Length * sizeof(float);
                for (int offset = 0; offset < total; offset += CopyBlockBytes)
                {
                    var length = Math.Min(CopyBlockBytes, total - offset);
                    MemoryMarshal.AsBytes(tensor.Data.AsSpan()).Slice(offset, length).CopyTo(buffer);
                    await stream.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static byte[] ToBytes(IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var buffer = new MemoryStream();
        WriteAsync(buffer, tensors, metadata).GetAwaiter().GetResult();
        return buffer.ToArray();
    }

    /// <summary>Reads a whole payload, converting every floating-point tensor to float32.</summary>
    public static async Task<(SafeTensorsHeader Header, IReadOnlyList<NamedTensor> Tensors)> ReadAsync(Stream stream, long? payloadBytes = null, CancellationToken cancellationToken = default)
    {
        EnsureLittleEndian();
        var header = await SafeTensorsHeader.ReadAsync(stream, payloadBytes, cancellationToken: cancellationToken).ConfigureAwait(false);
        var tensors = new List<NamedTensor>(header.Tensors.Count);
        foreach (var entry in header.Tensors)
        {
            var data = new float[SafeTensorsHeader.InMemoryLength(entry)];
            await ReadIntoAsync(stream, entry, data, cancellationToken).ConfigureAwait(false);
            tensors.Add(new NamedTensor(entry.Name, entry.Shape, data));
        }
        return (header, tensors);
    }

    public static async Task<(SafeTensorsHeader Header, IReadOnlyList<NamedTensor> Tensors)> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        return await ReadAsync(stream, stream.Length, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one tensor's bytes (the stream at its start) into <paramref name="destination"/> as float32.</summary>
    public static async Task ReadIntoAsync(Stream stream, TensorEntry entry, float[] destination, CancellationToken cancellationToken = default)
    {
        var elementSize = entry.DType.ElementSize();
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBlockBytes);
        try
        {
            long done = 0;
            while (done < entry.ElementCount)
            {
                var count = (int)Math.Min(CopyBlockBytes / elementSize, entry.ElementCount - done);
                try
                {
                    await stream.ReadExactlyAsync(buffer.AsMemory(0, count * elementSize), cancellationToken).ConfigureAwait(false);
                }
                catch (EndOfStreamException)
                {
                    throw new SafeTensorsFormatException($"payload ended inside tensor '{entry.Name}'");
                }
                Convert(entry, buffer.AsSpan(0, count * elementSize), destination.AsSpan((int)done, count));
                done += count;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads one tensor's bytes (the stream at its start) into <paramref name="destination"/> as float32: F32 straight
    /// into it, other types block by block through a buffer that stays in cache, converted with vector instructions.
    /// </summary>
    public static void ReadInto(Stream stream, TensorEntry entry, Span<float> destination)
    {
        if (destination.Length != entry.ElementCount)
            throw new ArgumentException($"tensor '{entry.Name}' has {entry.ElementCount} values but the destination holds {destination.Length}", nameof(destination));
        try
        {
            if (entry.DType == TensorDType.F32)
            {
                stream.ReadExactly(MemoryMarshal.AsBytes(destination));
                return;
            }
            var elementSize = entry.DType.ElementSize();
            var buffer = ArrayPool<byte>.Shared.Rent(CopyBlockBytes);
            try
            {
                int done = 0;
                while (done < destination.Length)
                {
                    var count = Math.Min(CopyBlockBytes / elementSize, destination.Length - done);
                    stream.ReadExactly(buffer, 0, count * elementSize);
                    Convert(entry, buffer.AsSpan(0, count * elementSize), destination.Slice(done, count));
                    done += count;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (EndOfStreamException)
        {
            throw new SafeTensorsFormatException($"payload ended inside tensor '{entry.Name}'");
        }
    }

    private static void Convert(TensorEntry entry, ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (entry.DType)
        {
            case TensorDType.F32:
                MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                break;
            case TensorDType.F16:
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source), destination);
                break;
            case TensorDType.BF16:
                BFloat16ToSingle(MemoryMarshal.Cast<byte, ushort>(source), destination);
                break;
            case TensorDType.F64:
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(source[(8 * i)..]);
                break;
            default:
                throw new SafeTensorsFormatException($"tensor '{entry.Name}' has dtype {entry.DType}; a floating-point tensor is expected");
        }
    }

    /// <summary>bfloat16 is the top half of a float32: widen each to 32 bits and shift it up, a vector at a time.</summary>
    internal static void BFloat16ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        var bits = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var halves = MemoryMarshal.Cast<ushort, Vector<ushort>>(source);
            for (int v = 0; v < halves.Length; v++, i += Vector<ushort>.Count)
            {
                Vector.Widen(halves[v], out var low, out var high);
                Vector.ShiftLeft(low, 16).CopyTo(bits[i..]);
                Vector.ShiftLeft(high, 16).CopyTo(bits[(i + Vector<uint>.Count)..]);
            }
        }
        for (; i < source.Length; i++)
            bits[i] = (uint)source[i] << 16;
    }

    private static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("tensor payloads are little-endian; big-endian hosts are not supported");
    }
}
