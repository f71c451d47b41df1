using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Federated.Simulations.Plotting;

namespace Federated.Server.Tests.Compare;

/// <summary>A minimal PNG reader for tests: checks the signature and every chunk's CRC, and inflates 8-bit RGB pixels.</summary>
public sealed record PngFile(int Width, int Height, byte[] Rows)
{
    public static PngFile Read(byte[] bytes)
    {
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        Assert.True(bytes.AsSpan(0, 8).SequenceEqual(signature), "PNG signature");
        int at = 8, width = 0, height = 0;
        var idat = new MemoryStream();
        var chunks = new List<string>();
        while (at < bytes.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
            var type = Encoding.ASCII.GetString(bytes, at + 4, 4);
            var data = bytes.AsSpan(at + 8, length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at + 8 + length));
            Assert.Equal(PngImage.Crc(PngImage.Crc(0xFFFFFFFFu, bytes.AsSpan(at + 4, 4)), data) ^ 0xFFFFFFFFu, crc);
            chunks.Add(type);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                Assert.Equal(new byte[] { 8, 2, 0, 0, 0 }, data[8..].ToArray()); // 8-bit truecolour, deflate, no filter set, no interlace
            }
            else if (type == "IDAT")
                idat.Write(data);
            at += 12 + length;
        }
        Assert.Equal("IHDR", chunks[0]);
        Assert.Equal("IEND", chunks[^1]);
        idat.Position = 0;
        using var zlib = new ZLibStream(idat, CompressionMode.Decompress);
        var rows = new MemoryStream();
        zlib.CopyTo(rows);
        Assert.Equal((long)height * (1 + 3 * width), rows.Length);
        return new PngFile(width, height, rows.ToArray());
    }

    public Rgb Pixel(int x, int y)
    {
        var i = y * (1 + 3 * Width) + 1 + 3 * x;
        return new Rgb(Rows[i], Rows[i + 1], Rows[i + 2]);
    }

    public bool Contains(Rgb color)
    {
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                if (Pixel(x, y) == color)
                    return true;
            }
        }
        return false;
    }
}
