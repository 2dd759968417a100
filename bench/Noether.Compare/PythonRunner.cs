using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Noether.Compare;

/// <summary>Launches the PyTorch twins and reads the JSON each writes.</summary>
internal sealed class PythonRunner(string python, string scriptsDirectory, TimeSpan timeout)
{
    /// <summary>The interpreter (default /usr/bin/python3).</summary>
    public string Python { get; } = python;

    /// <summary>bench/compare.</summary>
    public string ScriptsDirectory { get; } = scriptsDirectory;

    /// <summary>Checks that python3 runs and imports torch and numpy; returns the torch version or an error message.</summary>
    public (bool Ok, string Message) Probe()
    {
        if (Python.Contains('/') && !File.Exists(Python))
            return (false, $"{Python} not found");
        if (!File.Exists(Path.Combine(ScriptsDirectory, "harness.py")))
            return (false, $"the PyTorch twins are not in {ScriptsDirectory} (expected harness.py there; pass --scripts DIR)");
        var (code, stdout, stderr) = Execute(["-c", "import torch, numpy; print(torch.__version__)"], TimeSpan.FromMinutes(2));
        return code == 0
            ? (true, stdout.Trim())
            : (false, $"{Python} cannot import torch/numpy (exit {code}): {LastLines(stderr, 3)}");
    }

    /// <summary>Runs a twin; returns its JSON result or throws with its stderr.</summary>
    public JsonObject Run(PythonTwin twin, int runs, int warmup, string? inputs, string? noetherResults, string outFile)
    {
        var args = new List<string>
        {
            "-u", Path.Combine(ScriptsDirectory, twin.Script), "--workload", twin.Workload,
            "--runs", runs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--warmup", warmup.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", outFile,
        };
        if (inputs is not null) args.AddRange(["--inputs", inputs]);
        if (noetherResults is not null) args.AddRange(["--noether", noetherResults]);
        args.AddRange(twin.Arguments);
        if (File.Exists(outFile)) File.Delete(outFile);
        var (code, _, stderr) = Execute(args, timeout);
        if (code != 0 || !File.Exists(outFile))
            throw new InvalidOperationException($"{twin.Script} exited with {code}: {LastLines(stderr, 6)}");
        return JsonNode.Parse(File.ReadAllText(outFile))?.AsObject()
            ?? throw new InvalidOperationException($"{twin.Script} wrote an empty result to {outFile}");
    }

    private (int Code, string Stdout, string Stderr) Execute(IEnumerable<string> arguments, TimeSpan limit)
    {
        var psi = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = ScriptsDirectory,
            Environment = { ["PYTHONDONTWRITEBYTECODE"] = "1" },
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {Python}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, "", $"could not start {Python}: {e.Message}");
        }
        using (process)
        {
            var stdout = new StringBuilder();
            var stderr = new StringBuilder();
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit(limit))
            {
                process.Kill(entireProcessTree: true);
                return (-1, stdout.ToString(), $"timed out after {limit.TotalSeconds:F0} s");
            }
            process.WaitForExit(); // drain the output
            return (process.ExitCode, stdout.ToString(), stderr.ToString());
        }
    }

    private static string LastLines(string text, int n)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no output)" : string.Join(" | ", lines.TakeLast(n));
    }
}
