using Noether.Serialization;
using Noether.Tensors;

namespace Noether.Data;

/// <summary>
/// A user's own labelled tensors: a safetensors file holding "inputs" [N, …] and "labels" [N], or an inputs .npy with
/// a labels .npy (float32/float64 inputs, integer or integral-float labels). Samples of rank 1–3 are held in an
/// <see cref="ImageDataset"/> as [N, C, H, W] with leading size-1 axes; <see cref="SampleShape"/> keeps their own shape.
/// </summary>
public sealed record TensorFileDataset(ImageDataset Data, int[] SampleShape)
{
    /// <summary>Loads <paramref name="inputsPath"/> (.safetensors, or .npy with <paramref name="labelsPath"/>).</summary>
    /// <exception cref="DataFormatException">A file is malformed, a tensor is missing, or the shapes or labels are wrong (the message names the file).</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    public static TensorFileDataset Load(string inputsPath, string? labelsPath = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(inputsPath);
        foreach (var f in new[] { inputsPath, labelsPath })
            if (f is not null && !File.Exists(f)) throw new FileNotFoundException($"{f}: no such file", f);
        int[] shape;
        double[] values, labelValues;
        int[] labelShape;
        string source;
        if (inputsPath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            if (labelsPath is not null) throw Errors.Argument(nameof(labelsPath), $"{labelsPath}: a safetensors file holds its own \"labels\"; give no labels file");
            var file = SafeTensors.Read(inputsPath);
            SafeTensor Get(string name) => file.Tensors.FirstOrDefault(t => t.Name == name)
                ?? throw new DataFormatException(inputsPath, $"no tensor named \"{name}\" (it has {string.Join(", ", file.Tensors.Select(t => t.Name))})");
            var x = Get("inputs");
            var y = Get("labels");
            shape = x.Shape.ToArray();
            if (shape.Length is < 2 or > 4) throw new DataFormatException(inputsPath, $"\"inputs\" is {Errors.Shape(shape)}, expected [N, …] of rank 2 to 4");
            values = x.ToTensor<double>().ToDoubles();
            labelShape = y.Shape.ToArray();
            labelValues = y.ToTensor<double>().ToDoubles();
            source = inputsPath;
        }
        else
        {
            if (labelsPath is null) throw Errors.Argument(nameof(labelsPath), $"{inputsPath}: an inputs .npy needs a labels .npy beside it");
            var x = Npy.Read(inputsPath);
            var y = Npy.Read(labelsPath);
            if (!x.IsReal) throw new DataFormatException(inputsPath, $"inputs are {x.Type}, expected float32 or float64");
            shape = x.Shape;
            if (shape.Length is < 2 or > 4) throw new DataFormatException(inputsPath, $"inputs are {Errors.Shape(shape)}, expected [N, …] of rank 2 to 4");
            values = x.Data;
            labelShape = y.Shape;
            labelValues = y.Data;
            source = $"{inputsPath} + {labelsPath}";
        }
        int n = shape[0];
        string labelFile = labelsPath ?? inputsPath;
        if (n == 0) throw new DataFormatException(inputsPath, "there are no samples");
        if (labelShape.Length != 1 || labelShape[0] != n)
            throw new DataFormatException(labelFile, $"labels are {Errors.Shape(labelShape)}, expected [{n}] (one per sample of {Errors.Shape(shape)})");
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            double v = labelValues[i];
            if (!(v >= 0 && v == Math.Floor(v) && v < int.MaxValue)) throw new DataFormatException(labelFile, $"labels[{i}] = {v}, expected a class index ≥ 0");
            labels[i] = (int)v;
        }
        int[] sample = shape[1..];
        int[] held = [n, .. Enumerable.Repeat(1, 4 - shape.Length), .. sample];
        var images = Tensor<float>.FromDoubles(values, held);
        try
        {
            return new TensorFileDataset(ImageDataset.FromTensors(images, labels, labels.Max() + 1, source), sample);
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException(inputsPath, e.Message, e);
        }
    }
}
