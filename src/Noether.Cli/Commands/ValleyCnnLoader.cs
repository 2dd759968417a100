using System.Globalization;
using Noether.Data;
using Noether.Landscape;
using Noether.Nn;
using Noether.Serialization;

namespace Noether.Cli.Commands;

/// <summary>Loads a SPEC CNN saved by <c>noether train</c> and its test images for <c>noether valley --cnn</c>.</summary>
internal static class ValleyCnnLoader
{
    /// <summary>The architecture from the "noether.arch" metadata, e.g. "spec-cnn:in=1,size=28,channels=16,hidden=32,classes=10,slope=0.01".</summary>
    public static SpecCnn<double> LoadModel(string path)
    {
        var file = SafeTensors.Read(path);
        if (!file.Metadata.TryGetValue("noether.arch", out var arch) || !arch.StartsWith("spec-cnn:", StringComparison.Ordinal))
            throw new ArgumentException($"--cnn: {path} has no 'noether.arch' metadata describing a SPEC CNN (write it with `noether train`)", "--cnn");
        var fields = arch["spec-cnn:".Length..].Split(',').Select(kv => kv.Split('=')).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
        int Int(string key) => fields.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int x) && x > 0
            ? x : throw new ArgumentException($"--cnn: {path}: 'noether.arch' = '{arch}' has no positive integer '{key}'", "--cnn");
        double slope = fields.TryGetValue("slope", out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : 0.01;
        var model = new SpecCnn<double>(new Random(0), Int("in"), Int("size"), Int("classes"), Int("channels"), Int("hidden"), slope);
        foreach (var p in model.Parameters)
        {
            if (!file.Contains(p.Name)) throw new ArgumentException($"--cnn: {path} has no tensor '{p.Name}' (it has {string.Join(", ", file.Names)})", "--cnn");
            var t = file.GetTensor<double>(p.Name);
            if (!t.SameShape(p.Value))
                throw new ArgumentException($"--cnn: tensor '{p.Name}' in {path} is {string.Join("×", t.ShapeArray)}, but '{arch}' needs {string.Join("×", p.Value.ShapeArray)}", "--cnn");
            if (!t.AllFinite())
                throw new ArgumentException($"--cnn: tensor '{p.Name}' in {path} has non-finite entries (NaN or ±∞)", "--cnn");
            p.Value.CopyFrom(t);
        }
        return model;
    }

    /// <summary>The model's head on the first <paramref name="samples"/> test images (pixels in [0, 1], as <c>noether train</c> used them).</summary>
    public static (SpecCnnHead Head, string Description) Load(string path, string? dataDirectory, int samples)
    {
        var model = LoadModel(path);
        var test = model.InChannels == 3 ? Cifar10.Load(dataDirectory, train: false) : FashionMnist.Load(dataDirectory, train: false);
        if (test.Channels != model.InChannels || test.Height != model.ImageSize)
            throw new ArgumentException($"--cnn: the model expects {model.InChannels}×{model.ImageSize}×{model.ImageSize} images, the test set ({test.Source}) has {test.Channels}×{test.Height}×{test.Width}", "--cnn");
        int n = Math.Min(samples, test.Count);
        var (images, labels) = test.Gather<double>(Enumerable.Range(0, n).ToArray());
        var head = new SpecCnnHead(model, images, labels);
        return (head, string.Create(CultureInfo.InvariantCulture,
            $"SPEC CNN {path} (h = {head.Parameters.H}, {head.Parameters.U.Dim(0)} classes), its last two linear layers on the first {n} test images of {test.Source}; loss = mean cross-entropy, L* = {head.Loss(head.Parameters):G6}"));
    }
}
