using System.Runtime.InteropServices;

namespace Noether.Cli.Report;

/// <summary>The machine a report was produced on: enough to judge its times.</summary>
/// <param name="Cores">Logical cores the process may use.</param>
/// <param name="Cpu">CPU model (/proc/cpuinfo "model name"), or "unknown".</param>
/// <param name="Os">The operating system (/etc/os-release PRETTY_NAME and the kernel).</param>
/// <param name="Runtime">The .NET runtime.</param>
/// <param name="MemoryBytes">Physical memory (/proc/meminfo MemTotal), or null where unknown.</param>
internal sealed record MachineInfo(int Cores, string Cpu, string Os, string Runtime, long? MemoryBytes)
{
    /// <summary>This machine.</summary>
    public static MachineInfo Current() => new(
        Environment.ProcessorCount,
        ProcField("/proc/cpuinfo", "model name") ?? "unknown",
        OsName(),
        RuntimeInformation.FrameworkDescription,
        ProcField("/proc/meminfo", "MemTotal") is { } mem && long.TryParse(mem.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], out long kb) ? kb * 1024 : null);

    private static string OsName()
    {
        string? pretty = null;
        try
        {
            if (File.Exists("/etc/os-release"))
                pretty = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"');
        }
        catch (IOException)
        {
        }
        string kernel = File.Exists("/proc/sys/kernel/osrelease") ? SafeRead("/proc/sys/kernel/osrelease") : "";
        string system = pretty ?? RuntimeInformation.OSDescription;
        return kernel.Length > 0 ? $"{system}, kernel {kernel}, {RuntimeInformation.OSArchitecture}" : $"{system}, {RuntimeInformation.OSArchitecture}";
    }

    private static string SafeRead(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    // "key : value" lines of a /proc file; null when the file or the key is absent (not Linux).
    private static string? ProcField(string path, string key)
    {
        try
        {
            if (!File.Exists(path)) return null;
            foreach (var line in File.ReadLines(path))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim() == key) return line[(colon + 1)..].Trim();
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    /// <summary>Peak resident memory of this process so far (VmHWM on Linux).</summary>
    public static long PeakMemoryBytes()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }
}
