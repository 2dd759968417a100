using System.Numerics;
using System.Runtime;
using System.Runtime.InteropServices;
using Noether.Data;
using Noether.Tensors;

namespace Noether.Cli.Commands;

/// <summary><c>noether info</c>: versions, threads, numeric back-ends and where the datasets are.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show versions, threads, the BLAS in use and which datasets were found where.");
        CliAction.Set(command, _ =>
        {
            var table = new Table().Border(TableBorder.Rounded).AddColumn("item").AddColumn("value");
            void Row(string k, string v) => table.AddRow(Markup.Escape(k), Markup.Escape(v));
            Row("noether", typeof(Tensor<>).Assembly.GetName().Version?.ToString(3) ?? "?");
            Row(".NET runtime", RuntimeInformation.FrameworkDescription);
            Row("OS", $"{RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})");
            Row("logical cores", Environment.ProcessorCount.ToString());
            Row("SIMD width", $"{Vector<double>.Count} × float64, {Vector<float>.Count} × float32");
            Row("GC", $"{(GCSettings.IsServerGC ? "server" : "workstation")}, latency {GCSettings.LatencyMode}");
            Row("BLAS", Blas.OpenBlasAvailable
                ? $"OpenBLAS ({Blas.OpenBlasConfig?.Trim()}), {Blas.OpenBlasThreads} threads"
                : "managed fallback (libopenblas.so.0 not found; Debian: apt-get install -y libopenblas0-pthread)");
            foreach (var (name, where) in DatasetLocations()) Row(name, where);
            CliAction.Out.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static IEnumerable<(string, string)> DatasetLocations()
    {
        var fashion = FashionMnist.Locate();
        yield return ("Fashion-MNIST", fashion.Found
            ? $"{fashion.Directory} (chosen by {fashion.ChosenBy})"
            : $"not found in {fashion.Directory} (chosen by {fashion.ChosenBy}); install: {FashionMnist.InstallCommand}");
        var cifar = Cifar10.Locate();
        yield return ("CIFAR-10", cifar.Found
            ? $"{cifar.Directory} (chosen by {cifar.ChosenBy})"
            : $"not found (set {Cifar10.EnvironmentVariable} or pass --data-dir to a folder with the binary batches)");
    }
}
