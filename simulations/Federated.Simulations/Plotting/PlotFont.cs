using SkiaSharp;

namespace Federated.Simulations.Plotting;

/// <summary>
/// Picks the installed font that plots draw their text with. SkiaSharp finds fonts through fontconfig; on a
/// machine with none it would silently draw no text, so this fails instead, naming the package to install.
/// </summary>
public static class PlotFont
{
    /// <summary>Families tried first, in order: metric-stable sans fonts that Debian packages.</summary>
    public static IReadOnlyList<string> Preferred { get; } = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "FreeSans"];

    /// <summary>What a chart writes: digits, signs and Latin letters.</summary>
    public const string Probe = "0123456789.,-+()/% abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    public const string Missing =
        "plots need a font for their text and none is installed that can draw it; " +
        "on Debian or Ubuntu: apt-get install fonts-dejavu-core";

    private static readonly Lazy<string> Chosen = new(Resolve);

    /// <summary>The family name to draw with (looked up once); throws <see cref="InvalidOperationException"/> if there is none.</summary>
    public static string Family() => Chosen.Value;

    /// <summary>
    /// The first of <paramref name="preferred"/> that is installed and draws <see cref="Probe"/>; else the first
    /// installed family (in name order, so the choice is the same on every run) that does.
    /// </summary>
    public static string Choose(IReadOnlyList<string> preferred, IEnumerable<string> installed, Func<string, bool> drawsProbe)
    {
        var families = installed.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
        var found = preferred
            .Select(p => families.FirstOrDefault(f => string.Equals(f, p, StringComparison.OrdinalIgnoreCase)))
            .Concat(families)
            .FirstOrDefault(f => f is not null && drawsProbe(f));
        return found ?? throw new InvalidOperationException(Missing);
    }

    private static string Resolve()
    {
        try
        {
            var fonts = SKFontManager.Default;
            return Choose(Preferred, fonts.FontFamilies, family =>
            {
                using var typeface = fonts.MatchFamily(family);
                return typeface is not null && typeface.GetGlyphs(Probe).All(g => g != 0);
            });
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException)
        {
            throw new InvalidOperationException(
                $"plots are drawn with SkiaSharp, whose native library could not be loaded ({e.GetBaseException().Message}); on Debian or Ubuntu: apt-get install libfontconfig1 fonts-dejavu-core", e);
        }
    }
}
