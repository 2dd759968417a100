using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Noether.Data;
using Noether.Serialization;
using Noether.Tensors;

namespace Noether.Tests.Serialization;

public class SafeTensorsTests
{
    private const string Python = "/usr/bin/python3";

    /// <summary>A file assembled byte by byte: little-endian u64 header length, the header text, the data.</summary>
    private static byte[] Fixture(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        return bytes;
    }

    private static byte[] Floats(params float[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(4 * i), values[i]);
        return b;
    }

    private static (int ExitCode, string Stdout, string Stderr) RunPython(string script, params string[] args)
    {
        Assert.True(File.Exists(Python), $"{Python} is required by this test (Debian's python3 package; CI installs it)");
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "python3 did not finish within 60 s");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static Tensor<T> RandomTensor<T>(Random rng, params int[] shape) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        return Tensor<T>.FromDoubles(Enumerable.Range(0, n).Select(_ => (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-30, 30))).ToArray(), shape);
    }

    private static DataFormatException AssertFormatError(string header, byte[] data, params string[] phrases)
    {
        var e = Assert.Throws<DataFormatException>(() => SafeTensors.Parse(Fixture(header, data), "fixture.safetensors"));
        Assert.StartsWith("fixture.safetensors: ", e.Message);
        foreach (var phrase in phrases) Assert.Contains(phrase, e.Message);
        return e;
    }

    // ---- round trips -------------------------------------------------------------------------

    [Fact]
    public void WriteThenRead_FloatAndDoubleTensorsOfEveryRank_RoundTripBitForBit()
    {
        using var dir = new TempDirectory();
        var rng = new Random(17);
        var floats = new (string, Tensor<float>)[]
        {
            ("conv.weight", RandomTensor<float>(rng, 16, 1, 3, 3)),
            ("conv.bias", RandomTensor<float>(rng, 16)),
            ("scalar", RandomTensor<float>(rng)),
            ("empty", Tensor<float>.Zeros(0, 3)),
            ("fc.weight", RandomTensor<float>(rng, 10, 32)),
        };
        floats[1].Item2.Data[0] = float.NaN;
        floats[1].Item2.Data[1] = float.NegativeInfinity;
        floats[1].Item2.Data[2] = -0f;
        var doubles = new (string, Tensor<double>)[] { ("u", RandomTensor<double>(rng, 5, 50)), ("v", RandomTensor<double>(rng, 2, 3, 4)) };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["noether.arch"] = "cnn 16-32-10, ünïcode ok" };

        var path = dir.File("model.safetensors");
        SafeTensors.Write(path, floats.Select(t => SafeTensor.FromTensor(t.Item1, t.Item2))
            .Concat(doubles.Select(t => SafeTensor.FromTensor(t.Item1, t.Item2))), metadata);
        var file = SafeTensors.Read(path);

        Assert.Equal(floats.Select(t => t.Item1).Concat(doubles.Select(t => t.Item1)), file.Names);
        Assert.Equal(metadata, file.Metadata);
        foreach (var (name, tensor) in floats)
        {
            Assert.Equal(SafeTensorDType.F32, file[name].DType);
            var back = file.GetTensor<float>(name);
            Assert.Equal(tensor.ShapeArray, back.ShapeArray);
            Assert.Equal(tensor.Data.Select(BitConverter.SingleToInt32Bits), back.Data.Select(BitConverter.SingleToInt32Bits));
        }
        foreach (var (name, tensor) in doubles)
        {
            Assert.Equal(SafeTensorDType.F64, file[name].DType);
            var back = file.GetTensor<double>(name);
            Assert.Equal(tensor.ShapeArray, back.ShapeArray);
            Assert.Equal(tensor.Data.Select(BitConverter.DoubleToInt64Bits), back.Data.Select(BitConverter.DoubleToInt64Bits));
        }
        Assert.Equal(file.Names, SafeTensors.ReadTensors<double>(path).Select(t => t.Name));
    }

    [Fact]
    public void Serialize_HeaderIsPaddedToEightBytesAndTensorsAreContiguous()
    {
        var bytes = SafeTensors.Serialize([SafeTensor.FromTensor("a", Tensor<float>.Ones(3)), SafeTensor.FromTensor("bb", Tensor<double>.Ones(2))]);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        Assert.Equal("[0,12]", doc.RootElement.GetProperty("a").GetProperty("data_offsets").GetRawText());
        Assert.Equal("[12,28]", doc.RootElement.GetProperty("bb").GetProperty("data_offsets").GetRawText());
        Assert.Equal(8 + (int)n + 28, bytes.Length);
    }

    // ---- independent writer and reader (Python with json and struct only) --------------------

    private const string PythonWriter = """
import json, struct, sys
def f32(v): return struct.pack('<%df' % len(v), *v)
def f64(v): return struct.pack('<%dd' % len(v), *v)
def f16(v): return struct.pack('<%de' % len(v), *v)
def bf16(v): return b''.join(struct.pack('<f', x)[2:] for x in v)
def i64(v): return struct.pack('<%dq' % len(v), *v)
tensors = [  # (name, dtype, shape, bytes); data laid out in REVERSE of header order below
    ('layer1.weight', 'F32', [2, 3], f32([i * 0.1 - 0.25 for i in range(6)])),
    ('layer1.bias', 'F64', [4], f64([1 / 3, -2.5e-300, 1e300, 0.1])),
    ('half', 'F16', [2, 2], f16([1.0, -2.0, 0.333251953125, 65504.0])),
    ('brain', 'BF16', [3], bf16([1.0, 3.140625, -0.0078125])),
    ('steps', 'I64', [2], i64([-5, 7])),
    ('scale', 'F64', [], f64([2.5])),
    ('nothing', 'F32', [0, 3], b''),
]
data, offsets = b'', {}
for name, dtype, shape, raw in reversed(tensors):
    offsets[name] = (len(data), len(data) + len(raw))
    data += raw
header = {'__metadata__': {'format': 'pt', 'creator': 'python json+struct'}}
for name, dtype, shape, raw in tensors:
    header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': list(offsets[name])}
h = json.dumps(header).encode('utf-8')  # no padding: readers must not require it
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<Q', len(h))); f.write(h); f.write(data)
""";

    [Fact]
    public void Read_FileFromIndependentPythonWriter_GivesTheWrittenValues()
    {
        using var dir = new TempDirectory();
        var path = dir.File("python.safetensors");
        var (code, _, stderr) = RunPython(PythonWriter, path);
        Assert.True(code == 0, $"python writer failed: {stderr}");

        var file = SafeTensors.Read(path);

        Assert.Equal("python json+struct", file.Metadata["creator"]);
        Assert.Equal(["nothing", "scale", "steps", "brain", "half", "layer1.bias", "layer1.weight"], file.Names); // data order
        var w = file.GetTensor<float>("layer1.weight");
        Assert.Equal([2, 3], w.ShapeArray);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (float)(i * 0.1 - 0.25)), w.Data);
        Assert.Equal([1.0 / 3, -2.5e-300, 1e300, 0.1], file.GetTensor<double>("layer1.bias").Data);
        Assert.Equal([1.0f, -2.0f, 0.333251953125f, 65504.0f], file.GetTensor<float>("half").Data);
        Assert.Equal([1.0, 3.140625, -0.0078125], file.GetTensor<double>("brain").Data);
        Assert.Equal([-5.0, 7.0], file.GetTensor<double>("steps").Data);
        var scale = file.GetTensor<double>("scale");
        Assert.Equal(0, scale.Rank);
        Assert.Equal(2.5, scale.ScalarValue);
        Assert.Equal([0, 3], file.GetTensor<float>("nothing").ShapeArray);
    }

    private const string PythonReader = """
import json, struct, sys
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
assert n % 8 == 0, 'header not padded to 8 bytes'
header = json.loads(raw[8:8 + n].decode('utf-8'))
data = raw[8 + n:]
meta = header.pop('__metadata__', {})
spans = sorted(tuple(v['data_offsets']) for v in header.values())
pos = 0
for b, e in spans:
    assert b == pos, 'gap or overlap at %d' % b
    pos = e
assert pos == len(data), 'data section has %d bytes, tensors cover %d' % (len(data), pos)
size = {'F32': ('f', 4), 'F64': ('d', 8)}
out = {'metadata': meta, 'tensors': {}}
for name, info in header.items():
    code, width = size[info['dtype']]
    b, e = info['data_offsets']
    count = (e - b) // width
    values = struct.unpack('<%d%s' % (count, code), data[b:e])
    out['tensors'][name] = {'dtype': info['dtype'], 'shape': info['shape'], 'values': [repr(v) for v in values]}
print(json.dumps(out))
""";

    [Fact]
    public void Write_ReadByIndependentPythonReader_GivesTheSameValuesAndAValidLayout()
    {
        using var dir = new TempDirectory();
        var path = dir.File("noether.safetensors");
        var rng = new Random(23);
        var w = RandomTensor<float>(rng, 4, 3);
        var b = RandomTensor<double>(rng, 5);
        SafeTensors.Write(path, [SafeTensor.FromTensor("w", w), SafeTensor.FromTensor("b", b)], new Dictionary<string, string> { ["k"] = "v" });

        var (code, stdout, stderr) = RunPython(PythonReader, path);
        Assert.True(code == 0, $"python reader rejected Noether's file: {stderr}");

        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("v", doc.RootElement.GetProperty("metadata").GetProperty("k").GetString());
        var tensors = doc.RootElement.GetProperty("tensors");
        var pw = tensors.GetProperty("w");
        Assert.Equal("F32", pw.GetProperty("dtype").GetString());
        Assert.Equal("[4, 3]", pw.GetProperty("shape").GetRawText());
        Assert.Equal(w.Data.Select(v => (double)v), pw.GetProperty("values").EnumerateArray().Select(v => double.Parse(v.GetString()!, CultureInfo.InvariantCulture)));
        var pb = tensors.GetProperty("b");
        Assert.Equal("F64", pb.GetProperty("dtype").GetString());
        Assert.Equal(b.Data, pb.GetProperty("values").EnumerateArray().Select(v => double.Parse(v.GetString()!, CultureInfo.InvariantCulture)));
    }

    // ---- hand-built byte fixtures ------------------------------------------------------------

    [Fact]
    public void Parse_HandBuiltFixture_DecodesEveryFloatFormat()
    {
        // F16 0x3C00 = 1, 0xC000 = −2, 0x0001 = 2⁻²⁴ (smallest subnormal); BF16 0x3F80 = 1, 0xC049 = −3.140625.
        byte[] data = [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0x80, 0x3F, 0x49, 0xC0, .. Floats(1.5f, -0.25f)];
        var header = """{"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"bf":{"shape":[2],"dtype":"BF16","data_offsets":[6,10]},"f":{"dtype":"F32","shape":[1,2],"data_offsets":[10,18]}}    """;
        var file = SafeTensors.Parse(Fixture(header, data), "fixture");
        Assert.Equal([1.0, -2.0, Math.Pow(2, -24)], file.GetTensor<double>("h").Data);
        Assert.Equal([1.0, -3.140625], file.GetTensor<double>("bf").Data);
        Assert.Equal([1.5, -0.25], file.GetTensor<double>("f").Data);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void Parse_GapBetweenTensors_IsTolerated()
    {
        var file = SafeTensors.Parse(Fixture("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", Floats(9f, 2f)), "fixture");
        Assert.Equal([2f], file.GetTensor<float>("a").Data);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void Parse_ShorterThanEightBytes_Truncated(int length)
    {
        var e = Assert.Throws<DataFormatException>(() => SafeTensors.Parse(new byte[length], "tiny.safetensors"));
        Assert.StartsWith("tiny.safetensors: truncated", e.Message);
    }

    [Fact]
    public void Parse_HeaderLongerThanFile_Truncated()
    {
        var bytes = Fixture("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", Floats(1f));
        var e = Assert.Throws<DataFormatException>(() => SafeTensors.Parse(bytes.AsSpan(0, 30), "fixture.safetensors"));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("only 22 bytes follow", e.Message);
    }

    [Fact]
    public void Parse_DataCutShort_OffsetsOutOfRange()
    {
        var bytes = Fixture("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", Floats(1f, 2f));
        var e = Assert.Throws<DataFormatException>(() => SafeTensors.Parse(bytes.AsSpan(0, bytes.Length - 3), "cut.safetensors"));
        Assert.Contains("tensor 'a'", e.Message);
        Assert.Contains("out of range", e.Message);
        Assert.Contains("only 5 bytes", e.Message);
    }

    [Fact]
    public void Read_TruncatedFileOnDisk_NamesPath()
    {
        using var dir = new TempDirectory();
        var path = dir.File("model.safetensors");
        SafeTensors.Write(path, [("w", Tensor<float>.Ones(10))]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^1]);
        var e = Assert.Throws<DataFormatException>(() => SafeTensors.Read(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("out of range", e.Message);
    }

    [Fact]
    public void Parse_HugeHeaderLength_Rejected()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        Assert.Contains("exceeds", Assert.Throws<DataFormatException>(() => SafeTensors.Parse(bytes, "x")).Message);
    }

    [Fact]
    public void Parse_BadJson_NamesTheProblem() =>
        AssertFormatError("""{"a":{"dtype":"F32",""", [], "not valid JSON");

    [Fact]
    public void Parse_JsonArrayHeader_Rejected() => AssertFormatError("[1, 2, 3]", [], "expected an object");

    [Fact]
    public void Parse_UnknownDtype_NamesDtypeAndTensor() =>
        AssertFormatError("""{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}""", new byte[16], "tensor 'w'", "unknown dtype 'F128'", "F32");

    [Fact]
    public void Parse_OverlappingTensors_NamesBoth() =>
        AssertFormatError("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""",
            new byte[12], "'a'", "'b'", "overlap");

    [Fact]
    public void Parse_OffsetsDisagreeWithShape_NamesBoth() =>
        AssertFormatError("""{"a":{"dtype":"F64","shape":[2,2],"data_offsets":[0,16]}}""", new byte[32], "2×2 of F64 needs 32 bytes", "span 16");

    [Fact]
    public void Parse_EndBeforeBegin_Rejected() =>
        AssertFormatError("""{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}""", new byte[8], "end before begin");

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","data_offsets":[0,4]}}""", "no \"shape\"")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", "shape entry -1")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}""", "shape entry 1.5")]
    [InlineData("""{"a":{"shape":[1],"data_offsets":[0,4]}}""", "no \"dtype\"")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1]}}""", "no \"data_offsets\"")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}""", "no \"data_offsets\"")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}""", "non-negative")]
    [InlineData("""{"a":7}""", "tensor 'a' is a JSON Number")]
    [InlineData("""{"__metadata__":{"k":1}}""", "expected a string")]
    [InlineData("""{"__metadata__":[]}""", "expected an object of strings")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "names 'a' twice")]
    public void Parse_MalformedEntry_NamesTheProblem(string header, string phrase) => AssertFormatError(header, new byte[4], phrase);

    [Fact]
    public void ToTensor_EightBitFloatOrRankAboveFour_NotSupported()
    {
        var file = SafeTensors.Parse(Fixture("""{"q":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]},"r":{"dtype":"U8","shape":[1,1,1,1,2],"data_offsets":[2,4]}}""", new byte[4]), "f");
        Assert.Contains("F8_E4M3", Assert.Throws<NotSupportedException>(() => file.GetTensor<float>("q")).Message);
        Assert.Contains("rank 5", Assert.Throws<NotSupportedException>(() => file.GetTensor<float>("r")).Message);
        Assert.Contains("'missing'", Assert.Throws<KeyNotFoundException>(() => file["missing"]).Message);
    }

    [Fact]
    public void Write_DuplicateNames_RejectedAndNothingWritten()
    {
        using var dir = new TempDirectory();
        var path = dir.File("dup.safetensors");
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, [("w", Tensor<float>.Ones(1)), ("w", Tensor<float>.Ones(2))]));
        Assert.Contains("'w'", e.Message);
        Assert.Empty(dir.FileNames());
        Assert.Throws<ArgumentException>(() => SafeTensor.FromTensor(SafeTensors.MetadataKey, Tensor<float>.Ones(1)));
    }
}
