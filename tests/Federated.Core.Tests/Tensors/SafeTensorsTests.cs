using System.Buffers.Binary;
using System.Text;
using Federated.Core.Tensors;

namespace Federated.Core.Tests.Tensors;

public class SafeTensorsTests
{
    [Fact]
    public async Task Tensors_and_metadata_survive_a_round_trip()
    {
        var tensors = new[]
        {
            new NamedTensor("a", [2, 3], [1, 2, 3, 4, 5, 6]),
            new NamedTensor("b.weight", [4], [-1.5f, 0, float.Epsilon, 1e30f]),
        };
        var bytes = SafeTensorsFile.ToBytes(tensors, new Dictionary<string, string> { ["format"] = "pt" });

        Assert.Equal(0, BinaryPrimitives.ReadInt64LittleEndian(bytes) % 8);
        var (header, read) = await SafeTensorsFile.ReadAsync(new MemoryStream(bytes), bytes.Length);
        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal(tensors.Select(t => t.Name), read.Select(t => t.Name));
        Assert.Equal(tensors[0].Data, read[0].Data);
        Assert.Equal(tensors[1].Data, read[1].Data);
        Assert.Equal([2L, 3L], read[0].Shape);
    }

    [Theory]
    [InlineData(TensorDType.BF16)]
    [InlineData(TensorDType.F16)]
    public void Every_half_precision_bit_pattern_converts_as_the_scalar_definition(TensorDType dtype)
    {
        // All 65536 patterns, then 3 more so the vector loop leaves a tail, read in blocks as the loader reads them.
        var patterns = Enumerable.Range(0, 65536 + 3).Select(i => (ushort)(i * 40503)).ToArray(); // odd multiplier: a permutation
        var bytes = new byte[patterns.Length * 2];
        for (int i = 0; i < patterns.Length; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), patterns[i]);
        var values = new float[patterns.Length];
        SafeTensorsFile.ReadInto(new MemoryStream(bytes), new TensorEntry("t", dtype, [patterns.Length], 0, bytes.Length), values);
        for (int i = 0; i < patterns.Length; i++)
        {
            var expected = dtype == TensorDType.BF16 ? BitConverter.Int32BitsToSingle(patterns[i] << 16) : (float)BitConverter.UInt16BitsToHalf(patterns[i]);
            if (float.IsNaN(expected))
                Assert.True(float.IsNaN(values[i]), $"0x{patterns[i]:x4}: expected NaN, got {values[i]}");
            else
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(values[i]), $"0x{patterns[i]:x4}: expected {expected}, got {values[i]}");
        }
    }

    [Fact]
    public void A_payload_that_ends_inside_a_tensor_is_named()
    {
        foreach (var dtype in new[] { TensorDType.F32, TensorDType.BF16 })
        {
            var entry = new TensorEntry("w", dtype, [8], 0, 8 * dtype.ElementSize());
            var error = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.ReadInto(new MemoryStream(new byte[5]), entry, new float[8]));
            Assert.Equal("payload ended inside tensor 'w'", error.Message);
        }
    }

    [Fact]
    public async Task Half_precision_tensors_are_read_as_float()
    {
        var json = """{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}""";
        var data = new byte[6];
        BinaryPrimitives.WriteUInt16LittleEndian(data, BitConverter.HalfToUInt16Bits((Half)1.5f));
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2), BitConverter.HalfToUInt16Bits((Half)(-2f)));
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(4), (ushort)(BitConverter.SingleToInt32Bits(3.0f) >> 16));
        var (_, tensors) = await SafeTensorsFile.ReadAsync(new MemoryStream(Payload(json, data)));
        Assert.Equal([1.5f, -2f], tensors.Single(t => t.Name == "h").Data);
        Assert.Equal([3.0f], tensors.Single(t => t.Name == "b").Data);
    }

    [Fact]
    public void A_header_of_invalid_utf8_is_a_format_error_not_a_crash()
    {
        // Found by the hostile-client suite: invalid UTF-8 in a tensor's name threw from the JSON reader's transcoding.
        byte[] json = [.. Encoding.UTF8.GetBytes("{\"a"), 0xFF, .. Encoding.UTF8.GetBytes("\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}")];
        var error = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsHeader.Parse(json));
        Assert.Contains("not valid UTF-8", error.Message);
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", "spans 4 bytes but its shape [2] of F32 needs 8")]
    [InlineData("""{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}""", "unsupported dtype 'Q4'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "starts at byte 4; expected 0")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", "invalid shape dimension")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1]}}""", "no data_offsets")]
    [InlineData("""[1,2]""", "must be a JSON object")]
    [InlineData("""{"a":""", "not valid JSON")]
    public void Malformed_headers_are_refused_with_the_reason(string json, string reason)
    {
        var error = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsHeader.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void A_payload_whose_size_disagrees_with_its_header_is_refused()
    {
        var json = """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""";
        var error = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsHeader.Parse(Encoding.UTF8.GetBytes(json), payloadBytes: 8 + json.Length + 8));
        Assert.Contains("header describes", error.Message);
    }

    [Fact]
    public async Task A_truncated_payload_is_refused()
    {
        var bytes = SafeTensorsFile.ToBytes([new NamedTensor("a", [4], [1, 2, 3, 4])]);
        var error = await Assert.ThrowsAsync<SafeTensorsFormatException>(() => SafeTensorsFile.ReadAsync(new MemoryStream(bytes[..^3])));
        Assert.Contains("ended inside tensor 'a'", error.Message);
    }

    [Fact]
    public void An_oversized_header_length_is_refused_before_reading_it()
    {
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, ulong.MaxValue);
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsHeader.ReadLength(prefix));
    }

    private static byte[] Payload(string json, byte[] data)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }
}
