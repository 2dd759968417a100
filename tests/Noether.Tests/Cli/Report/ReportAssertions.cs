using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Noether.Tests.Cli.Report;

/// <summary>Checks of a report.html, each independent of the writer: images decoded here, corrections read from the docs file.</summary>
public static partial class ReportAssertions
{
    [GeneratedRegex("<img\\b[^>]*\\bsrc=\"([^\"]*)\"", RegexOptions.IgnoreCase)]
    private static partial Regex ImgSrc();

    [GeneratedRegex("^- \\*\\*(.+?)\\*\\*: (.+)$", RegexOptions.Multiline)]
    private static partial Regex CorrectionLine();

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Noether.slnx"))) return dir.FullName;
        throw new DirectoryNotFoundException("Noether.slnx not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Every &lt;img&gt; carries a PNG data URI that decodes to a real picture (more than one colour); returns the decoded PNG bytes.</summary>
    public static List<byte[]> AssertImagesArePngDataUris(string html, int expectedCount)
    {
        var sources = ImgSrc().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(expectedCount, sources.Count);
        var images = new List<byte[]>();
        foreach (var src in sources)
        {
            const string prefix = "data:image/png;base64,";
            Assert.StartsWith(prefix, src);
            byte[] png = Convert.FromBase64String(src[prefix.Length..]);
            Assert.NotEmpty(png);
            var image = PngImage.Decode(png);
            Assert.True(image.Width >= 100 && image.Height >= 100, $"image of {image.Width}×{image.Height}");
            Assert.True(image.DistinctColours() >= 8, $"image with {image.DistinctColours()} colours");
            images.Add(png);
        }
        return images;
    }

    /// <summary>No external resource: nothing fetched from a URL, no script, no stylesheet link.</summary>
    public static void AssertSelfContained(string html)
    {
        Assert.DoesNotMatch("(src|href)=\"(https?:)?//", html);
        Assert.DoesNotContain("url(", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html);
    }

    /// <summary>Every entry of docs/spec-corrections.md (read from the repository here, not from the tool) is in the report.</summary>
    public static void AssertListsCorrections(string html)
    {
        string markdown = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "spec-corrections.md"));
        var entries = CorrectionLine().Matches(markdown.Replace("\r\n", "\n")).ToList();
        Assert.True(entries.Count >= 6, $"only {entries.Count} corrections parsed from docs/spec-corrections.md");
        // Markdown code spans may be rendered as <code>: compare the text with both removed.
        string plain = html.Replace("<code>", "", StringComparison.Ordinal).Replace("</code>", "", StringComparison.Ordinal);
        foreach (var e in entries)
        {
            Assert.Contains(WebUtility.HtmlEncode(e.Groups[1].Value.Replace("`", "", StringComparison.Ordinal)), plain);
            Assert.Contains(WebUtility.HtmlEncode(e.Groups[2].Value.Replace("`", "", StringComparison.Ordinal)), plain);
        }
    }

    /// <summary>
    /// Renders <paramref name="html"/> in headless Chromium into <paramref name="screenshot"/> and checks the picture is not
    /// blank. Fails (never skips) when Chromium is missing: CI installs it.
    /// </summary>
    public static PngImage AssertRendersInChromium(string html, string screenshot)
    {
        string? chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
        Assert.True(chromium is not null, "headless Chromium is required by this test and was not found: install it with `apt-get install -y chromium` (Debian; .ci/run does)");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        if (File.Exists(screenshot)) File.Delete(screenshot);
        string profile = Directory.CreateTempSubdirectory("noether-chromium-").FullName;
        try
        {
            var info = new ProcessStartInfo(chromium!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            // The flags a fresh machine's first run needs to stay quiet (no component downloads, first-run or sync work
            // on this closed network: they only slow the start and keep writing into the profile after the page is done).
            foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-breakpad",
                         $"--user-data-dir={profile}", $"--screenshot={screenshot}", "--window-size=1280,4000", new Uri(html).AbsoluteUri })
                info.ArgumentList.Add(a);
            using var process = Process.Start(info)!;
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("chromium did not finish within 2 minutes");
            }
            Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {stderr.Result}");
        }
        finally
        {
            DeleteProfile(profile);
        }
        Assert.True(File.Exists(screenshot), $"chromium wrote no screenshot to {screenshot}");
        var image = PngImage.Decode(File.ReadAllBytes(screenshot));
        Assert.Equal((1280, 4000), (image.Width, image.Height));
        // A rendered report has text, tables and plots: many colours, and a good share of the page off the background.
        Assert.True(image.DistinctColours() >= 64, $"screenshot has only {image.DistinctColours()} colours");
        Assert.True(image.NonBackgroundFraction() >= 0.05, $"screenshot is {image.NonBackgroundFraction():P1} non-background");
        return image;
    }

    /// <summary>
    /// Removes Chromium's throw-away profile. Its helper processes can still be writing there for a moment after the
    /// browser exits, so a delete may meet "directory not empty": retry, and leave the temporary folder behind rather
    /// than fail a rendering check over clean-up.
    /// </summary>
    private static void DeleteProfile(string profile)
    {
        for (int attempt = 0; attempt < 10; attempt++)
        {
            try
            {
                Directory.Delete(profile, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 9)
            {
                Thread.Sleep(200);
            }
            catch (IOException)
            {
                return;
            }
        }
    }
}
