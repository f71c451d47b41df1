using System.Buffers.Binary;
using System.IO.Hashing;

namespace Federated.Server.Storage;

/// <summary>
/// The layout of one grain state file: a 21-byte header, then the serializer's payload.
/// <code>
/// 0  "FDST"            magic: what the file is
/// 4  format (1 byte)   this layout's version; a newer one is refused, not treated as damage
/// 5  version (int64)   the state's version, the ETag (little-endian, as every field here)
/// 13 length (uint32)   payload bytes
/// 17 CRC-32 (uint32)   of the payload
/// 21 payload           MessagePack (<see cref="MessagePackGrainStateSerializer"/>)
/// </code>
/// The length and checksum catch what a parser may not: a file cut at a value's boundary, a flipped bit in a
/// number. The version is in the header so a write can check the ETag without reading the payload.
/// </summary>
public static class StateFileFormat
{
    public const int HeaderBytes = 21;

    public const byte FormatVersion = 1;

    private static ReadOnlySpan<byte> Magic => "FDST"u8;

    public static byte[] Encode(long version, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[HeaderBytes + payload.Length];
        Magic.CopyTo(bytes);
        bytes[4] = FormatVersion;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(5), version);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(13), checked((uint)payload.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(17), Crc32.HashToUInt32(payload));
        payload.CopyTo(bytes.AsSpan(HeaderBytes));
        return bytes;
    }

    /// <summary>The header's version, or why the header is not a state file's (never quoting the file's bytes).</summary>
    /// <exception cref="NotSupportedException">The file is in a newer format than this server reads.</exception>
    public static long? ReadVersion(ReadOnlySpan<byte> header, string path, out string? problem)
    {
        problem = null;
        if (!header[..Math.Min(header.Length, Magic.Length)].SequenceEqual(Magic[..Math.Min(header.Length, Magic.Length)]))
        {
            problem = "no state-file header (it does not start with FDST)";
            return null;
        }
        if (header.Length < HeaderBytes)
        {
            problem = FormattableString.Invariant($"{header.Length} bytes, shorter than a state file's {HeaderBytes}-byte header");
            return null;
        }
        if (header[4] != FormatVersion)
            throw new NotSupportedException(FormattableString.Invariant($"grain state file {path} is in format {header[4]}; this server reads format {FormatVersion} (is it older than the server that wrote it?)"));
        return BinaryPrimitives.ReadInt64LittleEndian(header[5..]);
    }

    /// <summary>The version and payload of a whole file, or why it is damaged.</summary>
    public static (long Version, ReadOnlyMemory<byte> Payload)? Decode(byte[] file, string path, out string? problem)
    {
        var version = ReadVersion(file, path, out problem);
        if (version is null)
            return null;
        var length = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(13));
        var actual = file.Length - HeaderBytes;
        if (length != actual)
        {
            problem = FormattableString.Invariant($"truncated or extended: its header says {length} payload bytes, the file has {actual}");
            return null;
        }
        var payload = file.AsMemory(HeaderBytes);
        if (Crc32.HashToUInt32(payload.Span) != BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(17)))
        {
            problem = "its payload does not match its CRC-32";
            return null;
        }
        return (version.Value, payload);
    }
}
