using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Noether.Compare.Workloads;
using Noether.Tensors;

namespace Noether.Compare;

/// <summary>Options of one comparison run.</summary>
internal sealed record RunSettings(int Runs, int Warmup, int Rounds, int Seed, string Output, string Python, string? Scripts,
    IReadOnlyList<string> Only, IReadOnlyList<string> Skip, bool Strict, bool List, TimeSpan Timeout);

/// <summary>
/// The comparison runner: times each workload in Noether (in this process) and in its PyTorch twin
/// (bench/compare/*.py under /usr/bin/python3), then prints Noether/PyTorch ratios and writes results.json
/// and results.md. Exit code 0 whatever the ratios (benchmarks are not gates); 2 when python3/torch is
/// missing or the arguments are wrong; 1 with --strict when a workload errored.
/// </summary>
internal static class Program
{
    /// <summary>Every workload, in the order they run. Add new ones here.</summary>
    private static IReadOnlyList<IWorkload> AllWorkloads() =>
    [
        new GradientDescentFig3(relu: false),
        new GradientDescentFig3(relu: true),
        new CnnEpoch(),
        new HessianFig8(tanh: false),
        new HessianFig8(tanh: true),
        new HessianEigFig8(),
        new LanczosCnn(),
        new DriftFig3(),
        new MatMul<double>(512, BlasProvider.OpenBlas),
        new MatMul<double>(512, BlasProvider.Managed),
        new MatMul<double>(2048, BlasProvider.OpenBlas),
        new MatMul<double>(2048, BlasProvider.Managed),
        new MatMul<float>(2048, BlasProvider.OpenBlas),
        new MatMul<float>(2048, BlasProvider.Managed),
        new EnsemblePgd(),
        new ResNetTrainSteps(),
        ResNetLayer.Convolution(16, 16, 28),
        ResNetLayer.Convolution(32, 32, 14),
        ResNetLayer.Convolution(64, 64, 7),
        ResNetLayer.Convolution(1, 16, 28),
        ResNetLayer.Convolution(16, 32, 28, stride: 2),
        ResNetLayer.Convolution(32, 64, 14, stride: 2),
        ResNetLayer.Convolution(16, 32, 28, kernel: 1, stride: 2),
        ResNetLayer.Convolution(32, 64, 14, kernel: 1, stride: 2),
        ResNetLayer.BatchNormRelu(16, 28),
        ResNetLayer.BatchNormRelu(32, 14),
        ResNetLayer.BatchNormRelu(64, 7),
        new GraphHvp("resnet20-hvp", "resnet20.onnx", 0.5),
        new GraphHvp("transformer-hvp", "transformer.onnx", 1.0),
        new GraphCurvature("resnet20-curvature", "resnet20.onnx", 0.5),
        new GraphCurvature("transformer-curvature", "transformer.onnx", null),
    ];

    private const string Usage = """
        Noether vs PyTorch comparison runner.

        usage: bench/compare/run.sh [options]          (builds Release, then runs this)
               dotnet bench/Noether.Compare/bin/Release/net10.0/Noether.Compare.dll [options]

          --runs N        timed runs per side, median reported (default 5; < 5 is a smoke test)
          --warmup N      untimed runs first, per side (default 1)
          --rounds R      alternate Noether and PyTorch R times per workload, pooling the runs (default 1);
                          on a busy machine this spreads load changes over both sides
          --only A,B      run only workloads whose name contains one of these (e.g. gd,hessian)
          --skip A,B      skip workloads whose name contains one of these (e.g. managed,cnn)
          --out DIR       output folder for results.json / results.md (default: <repo>/out/compare)
          --python PATH   interpreter with torch and numpy (default /usr/bin/python3)
          --scripts DIR   folder of the PyTorch twins (default: <repo>/bench/compare)
          --seed N        seed of the random inputs (default 1)
          --timeout S     seconds allowed per PyTorch twin (default 3600)
          --strict        exit 1 if a workload failed with an error (missed targets never fail)
          --list          list the workloads and exit
        """;

    private static int Main(string[] args)
    {
        RunSettings settings;
        try
        {
            settings = Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}\n\n{Usage}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine(Usage);
            return 0;
        }

        var workloads = AllWorkloads()
            .Where(w => settings.Only.Count == 0 || settings.Only.Any(o => w.Name.Contains(o, StringComparison.OrdinalIgnoreCase)))
            .Where(w => !settings.Skip.Any(s => w.Name.Contains(s, StringComparison.OrdinalIgnoreCase)))
            .ToList();
        if (settings.List)
        {
            foreach (var w in AllWorkloads())
                Console.WriteLine($"{w.Name,-24} {w.Item} target {(w.Target is { } t ? "≤ " + t.ToString(CultureInfo.InvariantCulture) : "—"),-7} {w.Description}{(w.NoetherImplemented ? "" : "  [Noether side not yet implemented]")}");
            return 0;
        }
        if (workloads.Count == 0)
        {
            Console.Error.WriteLine("error: --only/--skip left no workload (see --list)");
            return 2;
        }

        string? scripts = settings.Scripts ?? Path.GetDirectoryName(FindUp("bench/compare/harness.py"));
        if (scripts is null)
        {
            Console.Error.WriteLine("error: cannot find bench/compare/harness.py above the current or program folder; pass --scripts DIR");
            return 2;
        }
        var python = new PythonRunner(settings.Python, Path.GetFullPath(scripts), settings.Timeout);
        var (ok, message) = python.Probe();
        if (!ok)
        {
            Console.Error.WriteLine($"error: PyTorch is needed for the comparison: {message}\n" +
                                    "  Debian: sudo apt-get install python3-torch python3-numpy libopenblas0-pthread\n" +
                                    "  (or pass --python PATH to an interpreter that has torch and numpy)");
            return 2;
        }

        string output = Path.GetFullPath(settings.Output);
        string work = Path.Combine(output, "work");
        Directory.CreateDirectory(work);
        var started = DateTimeOffset.Now;
        var machine = Machine.Detect();
        var noether = Machine.NoetherSettings();
        Console.WriteLine($"Noether vs PyTorch {message} — median of {settings.Runs * settings.Rounds} runs{(settings.Rounds > 1 ? $" ({settings.Rounds} alternating rounds of {settings.Runs})" : "")} after {settings.Warmup} warm-up, ratio = Noether/PyTorch (lower is better)");
        Console.WriteLine($"machine: {machine.Cpu}, {machine.Cores} cores @ {machine.GHz:F2} GHz, peak ≈ {machine.PeakF64GFlops:F0} GFLOP/s f64, {machine.PeakF32GFlops:F0} f32 ({Machine.FlopsPerCycleF64}/{Machine.FlopsPerCycleF32} FLOP/cycle/core, AVX2 FMA)");
        Console.WriteLine($"Noether: {noether["allocation"]}; GC {noether["gc"]}; BLAS {noether["blas"]} ({noether["blas_threads"]} threads)");
        if (settings.Runs * settings.Rounds < 5) Console.WriteLine("note: fewer than 5 runs — a smoke test, not a measurement");
        Console.WriteLine();

        var rows = new List<Row>();
        var twinCache = new Dictionary<string, (JsonObject? Result, string? Error)>();
        JsonObject? pytorchEnv = null;
        bool anyError = false;
        foreach (var w in workloads)
        {
            var row = new Row(w);
            rows.Add(row);
            var context = new WorkloadContext(work, w.Name, settings.Seed);
            string? loadBefore = LoadAverage();
            Console.Write($"{w.Name,-24} ");
            for (int round = 1; round <= settings.Rounds; round++)
            {
                RunNoether(w, row, context, settings, round);
                RunPyTorch(w, row, context, settings, python, work, twinCache);
            }
            Console.Write("Noether " + (row.NoetherStatus ?? $"{Row.F(row.NoetherMedian, "F2")} ms"));
            Console.Write(" | PyTorch " + (row.PyTorchStatus ?? $"{Row.F(row.PyTorchMedian, "F2")} ms"));
            if (row.Ratio is { } ratio) Console.Write($" | ratio {ratio:F3}");
            string load = loadBefore is null ? "" : $"{loadBefore} → {LoadAverage()}";
            if (load.Length > 0) row.NoetherFacts["load_average_1min"] = load;
            Console.WriteLine(load.Length > 0 ? $" | load {load}" : "");
            pytorchEnv ??= row.PyTorch?["env"]?.AsObject();
            anyError |= row.NoetherStatus?.StartsWith("error", StringComparison.Ordinal) == true
                        || row.PyTorchStatus?.StartsWith("error", StringComparison.Ordinal) == true;
        }

        var report = new Report(machine, noether, pytorchEnv, settings, started);
        Console.WriteLine();
        Console.Write(Report.Table(rows));
        foreach (var error in rows.SelectMany(r => r.Errors())) Console.WriteLine(error);
        string throughput = report.Throughput(rows);
        if (throughput.Length > 0) Console.Write("\n" + throughput);
        var (json, md) = report.Write(rows, output);
        Console.WriteLine($"\nwrote {json}\nwrote {md}");
        return settings.Strict && anyError ? 1 : 0;
    }

    private static void RunNoether(IWorkload w, Row row, WorkloadContext context, RunSettings settings, int round)
    {
        if (!w.NoetherImplemented)
        {
            row.NoetherStatus = "not yet implemented";
            return;
        }
        if (row.NoetherStatus is not null) return; // failed in an earlier round
        try
        {
            if (round == 1) w.Prepare(context);
            // Tiered JIT needs tens of calls (or ~1 s) before hot loops reach optimised code: warm up until both
            // the requested count and a small time budget are spent, so the timed runs see steady state.
            var warm = Stopwatch.StartNew();
            for (int i = 0; i < settings.Warmup || (round == 1 && i < 50 && warm.Elapsed.TotalSeconds < 1.5); i++)
            {
                w.BeforeRun();
                w.Run();
            }
            var allocated = row.AllocatedMb;
            var collections = row.Collections; // during timed regions only
            for (int i = 0; i < settings.Runs; i++)
            {
                w.BeforeRun();
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                long before = GC.GetTotalAllocatedBytes(precise: true);
                int c0 = GC.CollectionCount(0), c1 = GC.CollectionCount(1), c2 = GC.CollectionCount(2);
                long t0 = Stopwatch.GetTimestamp();
                w.Run();
                double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                collections[0] += GC.CollectionCount(0) - c0;
                collections[1] += GC.CollectionCount(1) - c1;
                collections[2] += GC.CollectionCount(2) - c2;
                allocated.Add((GC.GetTotalAllocatedBytes(precise: true) - before) / (1024.0 * 1024.0));
                row.NoetherMs.Add(ms / w.Repetitions);
            }
            foreach (var (k, v) in w.Finish(context)) row.NoetherFacts[k] = v;
            row.NoetherFacts["allocated_mb_per_run"] = Stats.Median(allocated);
            row.NoetherFacts["gc_per_run_gen0_gen1_gen2"] =
                string.Join('/', collections.Select(c => ((double)c / allocated.Count).ToString("0.#", CultureInfo.InvariantCulture)));
            using var self = Process.GetCurrentProcess();
            row.NoetherFacts["process_peak_rss_mb"] = self.PeakWorkingSet64 / (1024.0 * 1024.0);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            row.NoetherMs.Clear();
            row.NoetherStatus = $"error: {e.GetType().Name}: {e.Message}";
        }
    }

    private static void RunPyTorch(IWorkload w, Row row, WorkloadContext context, RunSettings settings, PythonRunner python, string work,
        Dictionary<string, (JsonObject? Result, string? Error)> cache)
    {
        if (w.Python is not { } twin)
        {
            row.PyTorchStatus = "not yet implemented";
            return;
        }
        if (twin.NeedsInputs && context.InputsManifest is null)
        {
            row.PyTorchStatus = "not run (the Noether side wrote no inputs)";
            return;
        }
        if (row.PyTorchStatus is not null) return; // failed in an earlier round
        bool reuse = !twin.NeedsInputs && settings.Rounds == 1; // rows timing the same PyTorch work share one run
        if (reuse && cache.TryGetValue(twin.Key, out var cached))
        {
            (row.PyTorch, row.PyTorchStatus) = cached;
            return;
        }
        try
        {
            var result = python.Run(twin, settings.Runs, settings.Warmup, context.InputsManifest, context.ResultsManifest,
                Path.Combine(work, $"{w.Name}.pytorch.json"));
            row.PyTorch = row.PyTorch is null ? result : Rounds.Merge(row.PyTorch, result);
        }
        catch (InvalidOperationException e)
        {
            row.PyTorch = null;
            row.PyTorchStatus = $"error: {e.Message}";
        }
        if (reuse) cache[twin.Key] = (row.PyTorch, row.PyTorchStatus);
    }

    /// <summary>The 1-minute load average (/proc/loadavg), or null off Linux: how busy the machine was.</summary>
    private static string? LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static RunSettings Parse(string[] args)
    {
        int runs = 5, warmup = 1, seed = 1, timeout = 3600, rounds = 1;
        string? output = null, scripts = null;
        string pythonPath = "/usr/bin/python3";
        var only = new List<string>();
        var skip = new List<string>();
        bool strict = false, list = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int NextInt(int min)
            {
                string name = args[i], s = Next();
                return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min
                    ? v : throw new ArgumentException($"{name} expects an integer ≥ {min}, got '{s}'");
            }
            switch (args[i])
            {
                case "--runs": runs = NextInt(1); break;
                case "--warmup": warmup = NextInt(0); break;
                case "--rounds": rounds = NextInt(1); break;
                case "--seed": seed = NextInt(0); break;
                case "--timeout": timeout = NextInt(1); break;
                case "--only": only.AddRange(Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)); break;
                case "--skip": skip.AddRange(Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)); break;
                case "--out": output = Next(); break;
                case "--python": pythonPath = Next(); break;
                case "--scripts": scripts = Next(); break;
                case "--strict": strict = true; break;
                case "--list": list = true; break;
                case "-h" or "--help": throw new OperationCanceledException();
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        output ??= FindUp("Noether.slnx") is { } sln ? Path.Combine(Path.GetDirectoryName(sln)!, "out", "compare") : Path.Combine("out", "compare");
        return new RunSettings(runs, warmup, rounds, seed, output, pythonPath, scripts, only, skip, strict, list, TimeSpan.FromSeconds(timeout));
    }

    /// <summary>The first existing <paramref name="relative"/> path above the current folder or the program's folder.</summary>
    internal static string? FindUp(string relative)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }
}
