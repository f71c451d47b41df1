using System.Buffers.Binary;
using System.Text.Json;

namespace Federated.Core.Tensors;

/// <summary>
/// The header of a safetensors payload (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// length N, then N bytes of JSON naming each tensor's dtype, shape and byte range, then the raw little-endian
/// data. This is our one tensor encoding, on the wire and on disk.
/// </summary>
public sealed class SafeTensorsHeader
{
    public const int DefaultMaxHeaderBytes = 16 * 1024 * 1024;
    private const string MetadataKey = "__metadata__";

    public SafeTensorsHeader(IReadOnlyList<TensorEntry> tensors, IReadOnlyDictionary<string, string> metadata, long headerBytes)
    {
        Tensors = tensors;
        Metadata = metadata;
        HeaderBytes = headerBytes;
        ByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Tensors in the order of their data.</summary>
    public IReadOnlyList<TensorEntry> Tensors { get; }

    public IReadOnlyDictionary<string, TensorEntry> ByName { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The JSON length N (without the 8-byte prefix).</summary>
    public long HeaderBytes { get; }

    /// <summary>Where the data starts in the payload.</summary>
    public long DataOffset => 8 + HeaderBytes;

    public long DataBytes => Tensors.Count == 0 ? 0 : Tensors[^1].End;

    public long TotalBytes => DataOffset + DataBytes;

    /// <summary>The number of values of a tensor that is read into one array; a format error if an array cannot hold them.</summary>
    public static int InMemoryLength(TensorEntry entry)
    {
        var count = entry.ElementCount;
        return count <= Array.MaxLength
            ? (int)count
            : throw new SafeTensorsFormatException($"tensor '{entry.Name}' has {count} values; at most {Array.MaxLength} can be read into memory");
    }

    /// <summary>Reads the length prefix of a payload; throws if it is out of bounds.</summary>
    public static long ReadLength(ReadOnlySpan<byte> prefix, int maxHeaderBytes = DefaultMaxHeaderBytes)
    {
        if (prefix.Length < 8)
            throw new SafeTensorsFormatException($"payload is {prefix.Length} bytes; a safetensors payload starts with an 8-byte header length");
        var length = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (length < 2 || length > (ulong)maxHeaderBytes)
            throw new SafeTensorsFormatException($"header length {length} is outside 2..{maxHeaderBytes} bytes");
        return (long)length;
    }

    /// <summary>Parses and validates the JSON header. <paramref name="payloadBytes"/>, when known, must match exactly.</summary>
    public static SafeTensorsHeader Parse(ReadOnlySpan<byte> json, long? payloadBytes = null)
    {
        // JsonDocument accepts invalid UTF-8 inside strings and fails only when a name is read, with an exception
        // that is not a JsonException: checked first so every malformed header is a format error.
        if (!System.Text.Unicode.Utf8.IsValid(json))
            throw new SafeTensorsFormatException("header is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException($"header is not valid JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsFormatException("header must be a JSON object");

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<TensorEntry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (!names.Add(property.Name))
                        throw new SafeTensorsFormatException($"tensor '{property.Name}' appears twice in the header");
                    if (property.Name == MetadataKey)
                    {
                        ReadMetadata(property.Value, metadata);
                        continue;
                    }
                    tensors.Add(ReadEntry(property.Name, property.Value));
                }
            }
            catch (InvalidOperationException e)
            {
                // What the UTF-8 check cannot see: a \u escape naming a lone surrogate, refused only as the string is read.
                throw new SafeTensorsFormatException($"header holds a string that is not valid UTF-16 ({e.Message})");
            }

            tensors.Sort((a, b) => a.Begin.CompareTo(b.Begin));
            long expected = 0;
            foreach (var tensor in tensors)
            {
                if (tensor.Begin != expected)
                    throw new SafeTensorsFormatException($"tensor '{tensor.Name}' starts at byte {tensor.Begin}; expected {expected} (data must be contiguous, without gaps or overlaps)");
                expected = tensor.End;
            }

            if (expected > long.MaxValue - 8 - json.Length)
                throw new SafeTensorsFormatException($"data_offsets end at byte {expected}, past what a payload's size can count");
            var header = new SafeTensorsHeader(tensors, metadata, json.Length);
            if (payloadBytes is { } total && total != header.TotalBytes)
                throw new SafeTensorsFormatException($"payload is {total} bytes but its header describes {header.TotalBytes}");
            return header;
        }
    }

    /// <summary>Reads and validates the header at the start of a stream, leaving the stream at the data.</summary>
    public static async Task<SafeTensorsHeader> ReadAsync(Stream stream, long? payloadBytes = null, int maxHeaderBytes = DefaultMaxHeaderBytes, CancellationToken cancellationToken = default)
    {
        var prefix = new byte[8];
        await ReadExactlyOrThrowAsync(stream, prefix, "header length", cancellationToken).ConfigureAwait(false);
        var length = ReadLength(prefix, maxHeaderBytes);
        var json = new byte[length];
        await ReadExactlyOrThrowAsync(stream, json, "header", cancellationToken).ConfigureAwait(false);
        return Parse(json, payloadBytes);
    }

    /// <summary>Builds a header for tensors laid out in the given order, and its serialized bytes (prefix included, padded to 8 bytes).</summary>
    public static (SafeTensorsHeader Header, byte[] Bytes) Create(IEnumerable<(string Name, TensorDType DType, IReadOnlyList<long> Shape)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = new List<TensorEntry>();
        long offset = 0;
        foreach (var (name, dtype, shape) in tensors)
        {
            if (name == MetadataKey || name.Length == 0)
                throw new ArgumentException($"'{name}' cannot be a tensor name", nameof(tensors));
            var count = shape.Aggregate(1L, (p, d) => p * d);
            var end = offset + count * dtype.ElementSize();
            entries.Add(new TensorEntry(name, dtype, shape.ToArray(), offset, end));
            offset = end;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            foreach (var entry in entries)
            {
                writer.WriteStartObject(entry.Name);
                writer.WriteString("dtype", entry.DType.ToSafeTensorsName());
                writer.WriteStartArray("shape");
                foreach (var dim in entry.Shape)
                    writer.WriteNumberValue(dim);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(entry.Begin);
                writer.WriteNumberValue(entry.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }

        var json = buffer.ToArray();
        var padded = (json.Length + 7) / 8 * 8;
        var bytes = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length).Fill((byte)' ');
        var header = new SafeTensorsHeader(entries, metadata ?? new Dictionary<string, string>(), padded);
        return (header, bytes);
    }

    private static void ReadMetadata(JsonElement element, Dictionary<string, string> metadata)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException("__metadata__ must be an object of strings");
        foreach (var item in element.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new SafeTensorsFormatException($"__metadata__ value '{item.Name}' must be a string");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static TensorEntry ReadEntry(string name, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException($"tensor '{name}' must be an object with dtype, shape and data_offsets");
        if (!element.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new SafeTensorsFormatException($"tensor '{name}' has no dtype");
        var dtypeName = dtypeElement.GetString()!;
        if (!TensorDTypes.TryParse(dtypeName, out var dtype))
            throw new SafeTensorsFormatException($"tensor '{name}' has unsupported dtype '{dtypeName}'");

        if (!element.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new SafeTensorsFormatException($"tensor '{name}' has no shape");
        var shape = new List<long>();
        long count = 1;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var value) || value < 0)
                throw new SafeTensorsFormatException($"tensor '{name}' has an invalid shape dimension {dim}");
            shape.Add(value);
            if (value != 0 && count > long.MaxValue / value)
                throw new SafeTensorsFormatException($"tensor '{name}' has a shape whose element count overflows a 64-bit integer (dimension {shape.Count} is {value})");
            count *= value;
        }

        if (!element.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new SafeTensorsFormatException($"tensor '{name}' has no data_offsets [begin, end]");
        // TryGetInt64 throws on a non-number rather than returning false.
        if (offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end) || begin < 0 || end < begin)
            throw new SafeTensorsFormatException($"tensor '{name}' has invalid data_offsets {offsets}");
        if (count > long.MaxValue / dtype.ElementSize())
            throw new SafeTensorsFormatException($"tensor '{name}' has shape {TensorShape.Describe(shape)}, whose size in bytes overflows a 64-bit integer");
        var expectedBytes = count * dtype.ElementSize();
        if (end - begin != expectedBytes)
            throw new SafeTensorsFormatException($"tensor '{name}' spans {end - begin} bytes but its shape {TensorShape.Describe(shape)} of {dtypeName} needs {expectedBytes}");
        return new TensorEntry(name, dtype, shape, begin, end);
    }

    private static async Task ReadExactlyOrThrowAsync(Stream stream, byte[] buffer, string what, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException)
        {
            throw new SafeTensorsFormatException($"payload ended inside the {what}");
        }
    }
}
