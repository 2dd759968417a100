using Noether.Data;
using Noether.Graphs;
using Noether.Serialization;
using Noether.Tests.Interop;

namespace Noether.Tests.Serialization;

public sealed class NpyTests
{
    [Theory]
    [InlineData(ElementType.Float)]
    [InlineData(ElementType.Double)]
    public void Written_arrays_read_back_exactly(ElementType type)
    {
        var rng = new Random(4);
        foreach (var shape in new[] { Array.Empty<int>(), new[] { 5 }, new[] { 2, 3, 4 }, new[] { 1, 2, 1, 2, 3 } })
        {
            var values = Enumerable.Range(0, shape.Aggregate(1, (a, d) => a * d)).Select(_ => rng.NextDouble() - 0.5).ToArray();
            if (type == ElementType.Float) values = values.Select(v => (double)(float)v).ToArray();
            var bytes = Npy.Serialize(type, shape, values);
            Assert.Equal(0, (bytes.Length - values.Length * (type == ElementType.Float ? 4 : 8)) % 64); // NumPy aligns the header to 64 bytes
            var back = Npy.Parse(bytes, "memory");
            Assert.Equal(type, back.Type);
            Assert.Equal(shape, back.Shape);
            Assert.Equal(values, back.Data);
        }
    }

    [Fact]
    public void A_file_written_by_numpy_reads_with_its_shape_and_values()
    {
        // inputs.npy and labels.npy were written by NumPy (make_zoo.py), an independent writer. The images'
        // values are checked by the zoo tests (PyTorch's and ONNX Runtime's outputs depend on every one).
        var x = Npy.Read(Path.Combine(OnnxZooTests.Folder, "inputs.npy"));
        Assert.Equal(ElementType.Float, x.Type);
        Assert.Equal(new[] { 16, 1, 28, 28 }, x.Shape);
        var labels = Npy.Read(Path.Combine(OnnxZooTests.Folder, "labels.npy"));
        Assert.Equal(new[] { 16 }, labels.Shape);
        Assert.All(labels.Data, l => Assert.InRange(l, 0, 9));
    }

    [Fact]
    public void Truncated_and_foreign_files_are_refused_naming_the_source()
    {
        var bytes = Npy.Serialize(ElementType.Double, [3, 4], new double[12]);
        var e = Assert.Throws<DataFormatException>(() => Npy.Parse(bytes[..^8], "cut.npy"));
        Assert.Contains("cut.npy", e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Throws<DataFormatException>(() => Npy.Parse("not numpy at all"u8, "text.npy"));
    }
}
