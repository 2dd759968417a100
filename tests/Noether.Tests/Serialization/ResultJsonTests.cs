using System.Globalization;
using Noether.Data;
using Noether.Serialization;

namespace Noether.Tests.Serialization;

public class ResultJsonTests
{
    public enum Verdict { Holds, Fails }

    public sealed record Row(string Name, double Predicted, double Measured, Verdict Verdict, int[] Sizes);

    [Fact]
    public void SerializeThenDeserialize_SpecialAndOrdinaryDoubles_RoundTrip()
    {
        var rows = new[]
        {
            new Row("drift", 0.1, double.NaN, Verdict.Holds, [5, 50, 10]),
            new Row("sharpness", double.PositiveInfinity, -1e-300, Verdict.Fails, []),
            new Row("ratio", 1.0 / 3, double.NegativeInfinity, Verdict.Holds, [1]),
        };
        var json = ResultJson.Serialize(rows);
        Assert.Contains("\"predicted\": 0.1", json);
        Assert.Contains("\"NaN\"", json);
        Assert.Contains("\"Infinity\"", json);
        Assert.Contains("\"verdict\": \"Fails\"", json);

        var back = ResultJson.Deserialize<Row[]>(json);
        Assert.Equal(rows.Length, back.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(rows[i].Name, back[i].Name);
            Assert.Equal(rows[i].Predicted, back[i].Predicted);
            Assert.Equal(rows[i].Measured, back[i].Measured); // xunit's double equality treats NaN == NaN
            Assert.Equal(rows[i].Verdict, back[i].Verdict);
            Assert.Equal(rows[i].Sizes, back[i].Sizes);
        }
    }

    [Fact]
    public void Serialize_MathematicalText_IsWrittenUnescapedAndReadBack()
    {
        var json = ResultJson.Serialize(new Row("ΔQ̃ of σ at η, ‖U‖²", 1, 2, Verdict.Holds, []));
        Assert.Contains("ΔQ̃ of σ at η, ‖U‖²", json);
        Assert.DoesNotContain("\\u", json);
        Assert.Equal("ΔQ̃ of σ at η, ‖U‖²", ResultJson.Deserialize<Row>(json).Name);
    }

    [Fact]
    public void Serialize_UnderACommaDecimalCulture_WritesPointDecimals()
    {
        var saved = CultureInfo.CurrentCulture;
        var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        comma.NumberFormat.NumberDecimalSeparator = ",";
        try
        {
            CultureInfo.CurrentCulture = comma;
            Assert.Contains("\"predicted\": 2.5", ResultJson.Serialize(new Row("x", 2.5, 0, Verdict.Holds, [])));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void WriteThenRead_RoundTripsAndReadOfGarbageNamesFile()
    {
        using var dir = new TempDirectory();
        var path = dir.File("summary.json");
        ResultJson.Write(path, new Row("q", 1e-17, 2, Verdict.Holds, [3]));
        Assert.Equal(1e-17, ResultJson.Read<Row>(path).Predicted);
        Assert.EndsWith("}\n", File.ReadAllText(path));

        File.WriteAllText(path, "{ \"name\": ");
        var e = Assert.Throws<DataFormatException>(() => ResultJson.Read<Row>(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("not valid JSON", e.Message);
    }
}
