namespace Noether.Compare;

/// <summary>
/// One row of the comparison: the same work done by Noether (in this process) and by a PyTorch twin
/// (a script in bench/compare run with /usr/bin/python3). The runner calls, in order:
/// <see cref="Prepare"/> once, then warm-up and timed calls of <see cref="BeforeRun"/> (untimed) and
/// <see cref="Run"/> (timed), then <see cref="Finish"/>, then the twin.
/// </summary>
internal interface IWorkload
{
    /// <summary>Unique key (e.g. "gd-fig3-identity"); <c>--only</c> matches it.</summary>
    string Name { get; }

    /// <summary>Which item of the issue this measures, e.g. "(a)".</summary>
    string Item { get; }

    /// <summary>One line saying what is timed.</summary>
    string Description { get; }

    /// <summary>Target for the ratio Noether/PyTorch (pass when ≤); null when the row is informative only.</summary>
    double? Target { get; }

    /// <summary>False while the Noether side is a placeholder: the runner then prints "not yet implemented", never a number.</summary>
    bool NoetherImplemented { get; }

    /// <summary>The PyTorch twin, or null when none exists yet.</summary>
    PythonTwin? Python { get; }

    /// <summary>Units of work per timed run (e.g. repeated products); reported times are per unit.</summary>
    int Repetitions => 1;

    /// <summary>Floating-point operations per unit of work, to report GFLOP/s; null when not meaningful.</summary>
    double? Flops => null;

    /// <summary>Untimed set-up: build inputs and write the shared input bundle with <see cref="WorkloadContext.WriteBundle"/>.</summary>
    void Prepare(WorkloadContext context);

    /// <summary>Untimed reset before every run (e.g. restore the initial parameters).</summary>
    void BeforeRun() { }

    /// <summary>The timed work.</summary>
    void Run();

    /// <summary>Untimed: write results the twin compares against; return facts for the report (e.g. final loss).</summary>
    IReadOnlyDictionary<string, object?> Finish(WorkloadContext context) => new Dictionary<string, object?>();
}

/// <summary>How to run a workload's PyTorch twin: bench/compare/<paramref name="Script"/> --workload <paramref name="Workload"/> plus <paramref name="Arguments"/>.</summary>
/// <param name="Script">File name under bench/compare.</param>
/// <param name="Workload">Name passed to the script (rows with equal script, name and arguments share one run).</param>
/// <param name="Arguments">Extra command-line arguments.</param>
/// <param name="NeedsInputs">True when the script reads the input bundle written by <see cref="IWorkload.Prepare"/>.</param>
internal sealed record PythonTwin(string Script, string Workload, IReadOnlyList<string> Arguments, bool NeedsInputs)
{
    /// <summary>Key for reusing one twin run across rows.</summary>
    public string Key => $"{Script}|{Workload}|{string.Join(' ', Arguments)}";
}

/// <summary>Where a workload exchanges arrays with its twin.</summary>
internal sealed class WorkloadContext(string workDirectory, string workloadName, int seed)
{
    /// <summary>Directory for exchange files (inside the output folder).</summary>
    public string WorkDirectory { get; } = workDirectory;

    /// <summary>Seed for the workload's random inputs.</summary>
    public int Seed { get; } = seed;

    /// <summary>Manifest of the input bundle, once written.</summary>
    public string? InputsManifest { get; private set; }

    /// <summary>Manifest of Noether's result bundle, once written.</summary>
    public string? ResultsManifest { get; private set; }

    /// <summary>Writes the shared inputs (read by the twin).</summary>
    public void WriteInputs(IReadOnlyDictionary<string, (double[] Data, int[] Shape)> arrays, IReadOnlyDictionary<string, double>? scalars = null) =>
        InputsManifest = WriteBundle("inputs", arrays, scalars);

    /// <summary>Writes Noether's results (compared by the twin).</summary>
    public void WriteResults(IReadOnlyDictionary<string, (double[] Data, int[] Shape)> arrays) =>
        ResultsManifest = WriteBundle("noether", arrays, null);

    /// <summary>Writes a bundle: raw little-endian float64 files plus a JSON manifest (see bench/compare/harness.py).</summary>
    public string WriteBundle(string kind, IReadOnlyDictionary<string, (double[] Data, int[] Shape)> arrays, IReadOnlyDictionary<string, double>? scalars)
    {
        Directory.CreateDirectory(WorkDirectory);
        var manifest = new Dictionary<string, object>();
        var entries = new Dictionary<string, object>();
        foreach (var (name, (data, shape)) in arrays)
        {
            string file = $"{workloadName}.{kind}.{name}.f64";
            var bytes = new byte[data.Length * sizeof(double)];
            for (int i = 0; i < data.Length; i++)
                System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * sizeof(double)), data[i]);
            AtomicFile.WriteAllBytes(Path.Combine(WorkDirectory, file), bytes);
            entries[name] = new { file, shape };
        }
        manifest["arrays"] = entries;
        manifest["scalars"] = scalars ?? new Dictionary<string, double>();
        string path = Path.Combine(WorkDirectory, $"{workloadName}.{kind}.json");
        AtomicFile.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(manifest));
        return path;
    }
}
