using Noether.Data;
using Noether.Graphs;
using Noether.Serialization;
using Noether.Tensors;

namespace Noether.Tests.Data;

public sealed class TensorFileDatasetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("noether-tensorfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void NpyPair_LoadsSamplesLabelsAndShape()
    {
        string x = Path.Combine(_dir, "x.npy"), y = Path.Combine(_dir, "y.npy");
        double[] values = Enumerable.Range(0, 3 * 5).Select(i => i * 0.5 - 3).ToArray(); // outside [0, 1] on purpose
        Npy.Write(x, ElementType.Float, [3, 5], values);
        WriteInt64Npy(y, [2, 0, 4]); // NumPy's default label dtype; Npy writes floats only

        var d = TensorFileDataset.Load(x, y);
        Assert.Equal([5], d.SampleShape);
        Assert.Equal([2, 0, 4], d.Data.Labels);
        Assert.Equal(5, d.Data.ClassCount);
        Assert.Equal(values.Select(v => (double)(float)v), d.Data.Images.ToDoubles());
    }

    /// <summary>A version-1.0 .npy of int64 values, laid out as NumPy writes it (header padded to 64 bytes, ending in '\n').</summary>
    private static void WriteInt64Npy(string path, long[] values)
    {
        string header = $"{{'descr': '<i8', 'fortran_order': False, 'shape': ({values.Length},), }}";
        header = header.PadRight(64 - 10 - 1) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0 };
        bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(header));
        foreach (long v in values) bytes.AddRange(BitConverter.GetBytes(v));
        File.WriteAllBytes(path, bytes.ToArray());
    }

    [Fact]
    public void SafeTensors_LoadsInputsAndLabels()
    {
        string f = Path.Combine(_dir, "data.safetensors");
        SafeTensors.Write(f, [SafeTensor.FromTensor("inputs", Tensor<float>.FromDoubles([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], 2, 2, 2)),
            SafeTensor.FromTensor("labels", Tensor<double>.FromDoubles([1, 0], 2))]);
        var d = TensorFileDataset.Load(f);
        Assert.Equal([2, 2], d.SampleShape);
        Assert.Equal([1, 0], d.Data.Labels);
        Assert.Equal([2, 1, 2, 2], d.Data.Images.ShapeArray);
    }

    [Fact]
    public void BadFiles_AreRefusedNamingTheFile()
    {
        string x = Path.Combine(_dir, "x.npy"), y = Path.Combine(_dir, "y.npy");
        Npy.Write(x, ElementType.Double, [3, 2], [1, 2, 3, 4, 5, 6]);
        Npy.Write(y, ElementType.Double, [2], [0, 1]);
        var e = Assert.Throws<DataFormatException>(() => TensorFileDataset.Load(x, y));
        Assert.Contains("y.npy", e.Message);
        Npy.Write(y, ElementType.Double, [3], [0, 1.5, 2]);
        Assert.Contains("labels[1]", Assert.Throws<DataFormatException>(() => TensorFileDataset.Load(x, y)).Message);
        string f = Path.Combine(_dir, "d.safetensors");
        SafeTensors.Write(f, [SafeTensor.FromTensor("inputs", Tensor<float>.FromDoubles([1, 2], 2, 1))]);
        Assert.Contains("\"labels\"", Assert.Throws<DataFormatException>(() => TensorFileDataset.Load(f)).Message);
    }
}
