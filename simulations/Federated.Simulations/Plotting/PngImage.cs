using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Federated.Simulations.Plotting;

/// <summary>
/// An RGB image in memory that writes itself as a PNG (8-bit truecolour, no interlace): rows with filter
/// type 0, compressed by <see cref="ZLibStream"/>, in one IDAT chunk.
/// </summary>
public sealed class PngImage
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly uint[] CrcTable = MakeCrcTable();
    private readonly byte[] _pixels;

    public PngImage(int width, int height, Rgb background)
    {
        if (width < 1 || height < 1 || (long)width * height > 64_000_000)
            throw new ArgumentException($"a PNG image must be between 1×1 and 64 megapixels, got {width}×{height}");
        Width = width;
        Height = height;
        _pixels = new byte[width * height * 3];
        for (int i = 0; i < _pixels.Length; i += 3)
            (_pixels[i], _pixels[i + 1], _pixels[i + 2]) = (background.R, background.G, background.B);
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Sets a pixel; points outside the image are ignored.</summary>
    public void Set(int x, int y, Rgb color)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
            return;
        var i = (y * Width + x) * 3;
        (_pixels[i], _pixels[i + 1], _pixels[i + 2]) = (color.R, color.G, color.B);
    }

    public Rgb Get(int x, int y)
    {
        var i = (y * Width + x) * 3;
        return new Rgb(_pixels[i], _pixels[i + 1], _pixels[i + 2]);
    }

    public void Save(string path)
    {
        using var file = File.Create(path);
        Write(file);
    }

    public void Write(Stream output)
    {
        output.Write(Signature);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, Width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), Height);
        header[8] = 8; // bits per sample
        header[9] = 2; // truecolour
        WriteChunk(output, "IHDR", header);
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                var rowBytes = Width * 3;
                for (int y = 0; y < Height; y++)
                {
                    zlib.WriteByte(0); // filter: none
                    zlib.Write(_pixels, y * rowBytes, rowBytes);
                }
            }
            WriteChunk(output, "IDAT", compressed.ToArray());
        }
        WriteChunk(output, "IEND", []);
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        var crc = Crc(Crc(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        output.Write(word);
    }

    /// <summary>The PNG/zlib CRC-32 (polynomial 0xEDB88320), continued from <paramref name="crc"/>.</summary>
    public static uint Crc(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    private static uint[] MakeCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}

/// <summary>An 8-bit RGB colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public static Rgb White { get; } = new(255, 255, 255);

    public static Rgb Black { get; } = new(0, 0, 0);

    public static Rgb Grid { get; } = new(225, 225, 225);
}
