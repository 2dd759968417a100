using System.Globalization;
using CsCheck;
using Noether.Data;
using Noether.Serialization;

namespace Noether.Tests.Serialization;

public class CsvTests
{
    [Fact]
    public void Text_EveryDouble_ParsesBackToTheSameBits()
    {
        Gen.Double.Sample(d =>
        {
            double back = Csv.ParseDouble(Csv.Text(d));
            if (double.IsNaN(d)) Assert.True(double.IsNaN(back));
            else Assert.Equal(BitConverter.DoubleToInt64Bits(d), BitConverter.DoubleToInt64Bits(back));
        }, iter: 10_000);
    }

    [Fact]
    public void Text_EveryFloat_ParsesBackToTheSameFloat()
    {
        Gen.Float.Sample(f =>
        {
            float back = float.Parse(Csv.Text(f), NumberStyles.Float, CultureInfo.InvariantCulture);
            if (float.IsNaN(f)) Assert.True(float.IsNaN(back));
            else Assert.Equal(BitConverter.SingleToInt32Bits(f), BitConverter.SingleToInt32Bits(back));
        }, iter: 10_000);
    }

    [Fact]
    public void Text_UnderACommaDecimalCulture_StillWritesInvariantNumbers()
    {
        var saved = CultureInfo.CurrentCulture;
        var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        comma.NumberFormat.NumberDecimalSeparator = ",";
        comma.NumberFormat.NumberGroupSeparator = ".";
        try
        {
            CultureInfo.CurrentCulture = comma;
            Assert.Equal("1,5", 1.5.ToString()); // the culture really is in effect
            var table = new CsvTable("eps", "acc", "n");
            table.AddRow(0.003, 0.5f, 12345);
            Assert.Equal("eps,acc,n\n0.003,0.5,12345\n", table.ToString());
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void Text_SpecialValues_AreSpelledOut()
    {
        Assert.Equal("NaN", Csv.Text(double.NaN));
        Assert.Equal("Infinity", Csv.Text(double.PositiveInfinity));
        Assert.Equal("-Infinity", Csv.Text(float.NegativeInfinity));
        Assert.Equal("true", Csv.Text(true));
        Assert.Equal("", Csv.Text(null));
        Assert.Equal("0.1", Csv.Text(0.1));
    }

    [Fact]
    public void ToStringThenParse_ArbitraryFields_RoundTrip()
    {
        var field = Gen.String[Gen.Char[",\"\r\n ab1é"], 0, 8];
        Gen.Select(field.Array[3, 3].Array[0, 5], field.Array[3, 3]).Sample((rows, header) =>
        {
            if (header.Distinct().Count() < 3) return;
            var table = new CsvTable(header);
            foreach (var row in rows) table.AddRow(row);
            var back = CsvTable.Parse(table.ToString());
            Assert.Equal(header, back.Columns);
            // A row of three empty fields is written as ",," and must survive.
            Assert.Equal(rows.Select(r => (IReadOnlyList<string>)r), back.Rows);
        }, iter: 500);
    }

    [Fact]
    public void ToStringThenParse_SingleColumnWithEmptyValue_KeepsTheRow()
    {
        var table = new CsvTable("note");
        table.AddRow("");
        table.AddRow("x");
        Assert.Equal(["", "x"], CsvTable.Parse(table.ToString()).Rows.Select(r => r[0]));
    }

    [Fact]
    public void SaveThenLoad_NumbersSurviveExactly()
    {
        using var dir = new TempDirectory();
        var table = new CsvTable("eps", "accuracy", "label");
        var rng = new Random(5);
        var values = Enumerable.Range(0, 20).Select(_ => rng.NextDouble() / 3).ToArray();
        foreach (var v in values) table.AddRow(v, 1 - v, "group, g=I+εM");
        table.Save(dir.File("r.csv"));

        var back = CsvTable.Load(dir.File("r.csv"));
        Assert.Equal(values, Enumerable.Range(0, 20).Select(i => back.GetDouble(i, "eps")));
        Assert.Equal("group, g=I+εM", back[3, "label"]);
        Assert.Equal(["r.csv"], dir.FileNames());
    }

    [Fact]
    public void Parse_Malformed_NamesSourceAndProblem()
    {
        Assert.Contains("line 2: unterminated quoted field", Assert.Throws<DataFormatException>(() => CsvTable.Parse("a,b\n\"x,1\n", "r.csv")).Message);
        var e = Assert.Throws<DataFormatException>(() => CsvTable.Parse("a,b\n1,2\n3\n", "r.csv"));
        Assert.Equal("r.csv", e.FilePath);
        Assert.Contains("record 3 has 1 fields but the header has 2", e.Message);
        Assert.Contains("no header", Assert.Throws<DataFormatException>(() => CsvTable.Parse("", "r.csv")).Message);
    }

    [Fact]
    public void AddRow_WrongCellCount_NamesColumns()
    {
        var table = new CsvTable("a", "b");
        Assert.Contains("3 cells for 2 columns (a, b)", Assert.Throws<ArgumentException>(() => table.AddRow(1, 2, 3)).Message);
        Assert.Throws<ArgumentException>(() => new CsvTable("a", "a"));
        Assert.Contains("no column 'c'", Assert.Throws<ArgumentException>(() => table.ColumnIndex("c")).Message);
    }
}
