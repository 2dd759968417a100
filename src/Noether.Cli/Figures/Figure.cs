using ScottPlot;

namespace Noether.Cli.Figures;

/// <summary>
/// ScottPlot conventions for every figure Noether draws: one bundled font (so images look the same on every
/// machine), a fixed size, and an atomic PNG write (temporary file, then rename).
/// </summary>
internal static class Figure
{
    public const string FontName = "DejaVu Sans";
    private static readonly Lazy<bool> FontsRegistered = new(() =>
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Figures", "Fonts");
        ScottPlot.Fonts.AddFontFile(FontName, Path.Combine(dir, "DejaVuSans.ttf"), bold: false, italic: false);
        ScottPlot.Fonts.AddFontFile(FontName, Path.Combine(dir, "DejaVuSans-Bold.ttf"), bold: true, italic: false);
        return true;
    });

    /// <summary>A new plot using the bundled font.</summary>
    public static Plot Create(string title, string xLabel, string yLabel)
    {
        _ = FontsRegistered.Value;
        var plot = new Plot();
        plot.Font.Set(FontName);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    /// <summary>Writes the plot as PNG to <paramref name="path"/> atomically.</summary>
    public static void Save(Plot plot, string path, int width = 800, int height = 500)
    {
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.WriteAllBytes(path, png);
    }
}
