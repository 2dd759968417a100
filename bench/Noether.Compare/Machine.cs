using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.CompilerServices;
using Noether.Tensors;

namespace Noether.Compare;

/// <summary>
/// The machine's theoretical peak, estimated as cores × clock × FLOPs per cycle, and the settings Noether
/// runs with (GC mode, BLAS), so every ratio is read with its context.
/// </summary>
internal sealed record Machine(
    string Cpu, int Cores, double GHz, string ClockSource, double NominalGHz, double MeasuredGHz, bool Avx2Fma,
    double PeakF64GFlops, double PeakF32GFlops, string PeakAssumption)
{
    /// <summary>FLOPs per cycle per core with AVX2 FMA: 2 FMA units × 4 doubles (8 floats) × 2 (multiply + add).</summary>
    public const int FlopsPerCycleF64 = 16, FlopsPerCycleF32 = 32;

    /// <summary>Reads lscpu (falls back to /proc/cpuinfo for the clock, which lscpu omits under some hypervisors).</summary>
    public static Machine Detect()
    {
        var lscpu = ReadLscpu();
        string cpu = lscpu.GetValueOrDefault("Model name") ?? "unknown";
        int cores = Environment.ProcessorCount;
        if (int.TryParse(lscpu.GetValueOrDefault("Core(s) per socket"), out int perSocket) &&
            int.TryParse(lscpu.GetValueOrDefault("Socket(s)"), out int sockets))
            cores = Math.Min(perSocket * sockets, Environment.ProcessorCount);

        double mhz = 0;
        string source = "unknown";
        if (TryParse(lscpu.GetValueOrDefault("CPU max MHz"), out mhz)) source = "lscpu 'CPU max MHz'";
        else if (TryParse(lscpu.GetValueOrDefault("CPU MHz"), out mhz)) source = "lscpu 'CPU MHz'";
        else if (File.Exists("/proc/cpuinfo"))
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("cpu MHz", StringComparison.Ordinal));
            if (line is not null && TryParse(line[(line.IndexOf(':') + 1)..], out mhz))
                source = "/proc/cpuinfo 'cpu MHz' (nominal: lscpu reports no max clock here; turbo may run faster)";
        }
        string flags = lscpu.GetValueOrDefault("Flags") ?? "";
        bool avx2Fma = flags.Split(' ').Contains("avx2") && flags.Split(' ').Contains("fma");
        double nominal = mhz / 1000.0, measured = MeasureClockGHz();
        // Under a hypervisor the reported MHz is the nominal (TSC) clock; cores may boost above it. Use the
        // measured clock when it is higher and plausible, so "% of peak" never exceeds 100 % for that reason.
        bool useMeasured = measured > nominal && (nominal == 0 || measured < 2 * nominal);
        double ghz = useMeasured ? measured : nominal;
        string clock = useMeasured
            ? $"measured {measured:F2} GHz (a chain of dependent 1-cycle integer ops; the reported clock is {nominal:F3} GHz from {source})"
            : $"{nominal:F3} GHz from {source} (measured {measured:F2} GHz)";
        string assumption =
            $"peak = {cores} cores × {ghz:F2} GHz × {FlopsPerCycleF64} FLOP/cycle (float64) or {FlopsPerCycleF32} (float32): " +
            "AVX2 FMA, two 256-bit FMA pipes per core, both busy every cycle (AVX-512 on Zen 4 gives the same FLOPs/cycle)" +
            (avx2Fma ? "" : " — WARNING: the CPU flags lack avx2/fma, so this peak is not attainable") +
            $"; clock: {clock}";
        return new Machine(cpu, cores, ghz, useMeasured ? "measured" : source, nominal, measured, avx2Fma,
            cores * ghz * FlopsPerCycleF64, cores * ghz * FlopsPerCycleF32, assumption);
    }

    /// <summary>How Noether allocates and multiplies, for the report (the fairness note the issue asks for).</summary>
    public static Dictionary<string, object?> NoetherSettings() => new()
    {
        ["allocation"] = "plain managed arrays (new T[]) per tensor, freed by the GC; a training step's and a Hessian product's tensors recycled from a pool (Tensors/Scratch)",
        ["gc"] = $"{(GCSettings.IsServerGC ? "server" : "workstation")}, " +
                 $"concurrent={AppContext.GetData("System.GC.Concurrent") ?? "default(true)"}, latency={GCSettings.LatencyMode}",
        ["blas"] = Blas.OpenBlasAvailable ? Blas.OpenBlasConfig : "managed fallback (libopenblas.so.0 not found)",
        ["blas_threads"] = Blas.OpenBlasThreads,
        ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        ["tiered_pgo"] = AppContext.GetData("System.Runtime.TieredPGO")?.ToString() ?? "default",
        ["vector_bits"] = System.Numerics.Vector<byte>.Count * 8,
        ["processors"] = Environment.ProcessorCount,
    };

    /// <summary>
    /// The core clock in GHz, from a chain of 16 dependent integer add/xor per iteration (1 cycle latency each,
    /// so the chain runs at one op per cycle while the loop counter runs alongside). Best of many short trials,
    /// so preemption by other processes only lowers discarded trials.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    internal static double MeasureClockGHz()
    {
        const int Iterations = 1 << 20, OpsPerIteration = 16;
        ulong x = 1, y = (ulong)Environment.TickCount64 | 1, z = y * 2654435761UL;
        double best = 0;
        for (int trial = 0; trial < 30; trial++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < Iterations; i++)
            {
                x += y; x ^= z; x += y; x ^= z; x += y; x ^= z; x += y; x ^= z;
                x += y; x ^= z; x += y; x ^= z; x += y; x ^= z; x += y; x ^= z;
            }
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (seconds > 0) best = Math.Max(best, (double)Iterations * OpsPerIteration / seconds / 1e9);
        }
        GC.KeepAlive(x);
        return x == 42 ? 0 : best; // consume x so the chain cannot be removed
    }

    private static bool TryParse(string? s, out double value) =>
        double.TryParse(s?.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value) && value > 0;

    private static Dictionary<string, string> ReadLscpu()
    {
        var result = new Dictionary<string, string>();
        try
        {
            using var p = Process.Start(new ProcessStartInfo("lscpu")
            {
                RedirectStandardOutput = true, UseShellExecute = false, Environment = { ["LC_ALL"] = "C" },
            });
            if (p is null) return result;
            string text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            foreach (var line in text.Split('\n'))
            {
                int colon = line.IndexOf(':');
                if (colon > 0) result.TryAdd(line[..colon].Trim(), line[(colon + 1)..].Trim());
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // no lscpu (not Linux): the /proc fallback or "unknown" applies
        }
        return result;
    }
}
