using Federated.Simulations.Plotting;

namespace Federated.Server.Tests.Compare;

/// <summary>The PNG writer, the bitmap font and the line chart behind `federated compare`'s plots.</summary>
public class PlottingTests
{
    [Fact]
    public void Png_round_trips_through_a_decoder_pixel_for_pixel()
    {
        var image = new PngImage(7, 5, new Rgb(10, 20, 30));
        image.Set(0, 0, new Rgb(255, 0, 0));
        image.Set(6, 4, new Rgb(0, 255, 0));
        image.Set(3, 2, new Rgb(1, 2, 3));
        image.Set(-1, 9, Rgb.Black); // outside: ignored

        var stream = new MemoryStream();
        image.Write(stream);
        var png = PngFile.Read(stream.ToArray());

        Assert.Equal((7, 5), (png.Width, png.Height));
        for (int y = 0; y < 5; y++)
        {
            for (int x = 0; x < 7; x++)
                Assert.Equal(image.Get(x, y), png.Pixel(x, y));
        }
        Assert.Equal(new Rgb(255, 0, 0), png.Pixel(0, 0));
        Assert.Equal(new Rgb(1, 2, 3), png.Pixel(3, 2));
        Assert.Equal(new Rgb(10, 20, 30), png.Pixel(1, 1));
    }

    [Fact]
    public void Crc_matches_the_standard_check_value()
        => Assert.Equal(0xCBF43926u, PngImage.Crc(0xFFFFFFFFu, "123456789"u8) ^ 0xFFFFFFFFu);

    [Fact]
    public void Bad_sizes_are_refused_with_the_size()
    {
        Assert.Contains("0×5", Assert.Throws<ArgumentException>(() => new PngImage(0, 5, Rgb.White)).Message);
        Assert.Contains("100×100", Assert.Throws<ArgumentException>(() => new LineChart("t", "x", "y").Render(100, 100)).Message);
    }

    [Fact]
    public void Text_draws_the_glyph_bits_and_lower_case_as_capitals()
    {
        var image = new PngImage(20, 10, Rgb.White);
        BitmapFont.Draw(image, "l", 0, 0, Rgb.Black);
        // 'L': the left column is set on all seven rows, the bottom row is set across all five columns.
        for (int y = 0; y < 7; y++)
            Assert.Equal(Rgb.Black, image.Get(0, y));
        for (int x = 0; x < 5; x++)
            Assert.Equal(Rgb.Black, image.Get(x, 6));
        Assert.Equal(Rgb.White, image.Get(2, 2));
        Assert.Equal(11, BitmapFont.Measure("ab"));
        Assert.Equal(22, BitmapFont.Measure("ab", 2));
    }

    [Fact]
    public void Chart_draws_each_series_in_its_colour_with_ticks_covering_the_data()
    {
        var chart = new LineChart("Loss", "virtual time (s)", "loss");
        chart.Series.Add(new ChartSeries("a", [(0, 1.0), (10, 0.5), (20, 0.25)]));
        chart.Series.Add(new ChartSeries("b", [(0, 0.9), (20, 0.8)]));
        var stream = new MemoryStream();
        chart.Render().Write(stream);
        var png = PngFile.Read(stream.ToArray());

        Assert.Equal((900, 560), (png.Width, png.Height));
        Assert.True(png.Contains(LineChart.Palette[0]));
        Assert.True(png.Contains(LineChart.Palette[1]));
        Assert.False(png.Contains(LineChart.Palette[2]));

        var ticks = LineChart.NiceTicks(0.23, 1.0);
        Assert.True(ticks[0] <= 0.23 && ticks[^1] >= 1.0, string.Join(", ", ticks));
        Assert.InRange(ticks.Count, 4, 12);
        Assert.All(ticks.Zip(ticks.Skip(1)), pair => Assert.Equal(ticks[1] - ticks[0], pair.Second - pair.First, 9));
    }
}
