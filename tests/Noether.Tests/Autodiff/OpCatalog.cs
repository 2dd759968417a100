using Noether.Autodiff;
using Noether.Tests.Support;

namespace Noether.Tests.Autodiff;

/// <summary>One differentiable op under test: how its inputs are shaped, where they are drawn, how it is applied.</summary>
public sealed record OpSpec(
    string Name,
    Func<int[], int[][]> Shapes,
    Domain[] Domains,
    Func<Tape<double>, IReadOnlyList<Variable<double>>, Variable<double>> Apply,
    bool TwiceDifferentiable = true);

/// <summary>
/// Every public op (and the Variable operators), each with shapes that exercise its interesting cases:
/// broadcasting, all four transpose combinations, every axis. d[0..3] are random dimensions in [1, 4].
/// </summary>
public static class OpCatalog
{
    private static readonly Domain[] Any = [Domain.Any];
    private static readonly Domain[] Pos = [Domain.Positive];
    private static readonly Domain[] Kinked = [Domain.AwayFromZero];

    private static Variable<double> R(Variable<double> r) => Ops.Reciprocal(Ops.AddScalar(r, 1.0)); // f(r) = 1/(1 + r)

    public static readonly OpSpec[] All =
    [
        new("Add", d => [[d[0], d[1]], [d[0], d[1]]], Any, (t, x) => Ops.Add(x[0], x[1])),
        new("AddBiasRow", d => [[d[0], d[1]], [d[1]]], Any, (t, x) => Ops.Add(x[0], x[1])),
        new("AddBiasColumn", d => [[d[0], d[1]], [d[0], 1]], Any, (t, x) => Ops.Add(x[1], x[0])),
        new("AddRank3Broadcast", d => [[d[0], d[1], d[2]], [d[1], 1]], Any, (t, x) => Ops.Add(x[0], x[1])),
        new("AddRank4Broadcast", d => [[d[0], 1, d[2], d[3]], [d[1], 1, 1]], Any, (t, x) => Ops.Add(x[0], x[1])),
        new("Subtract", d => [[d[0], d[1]], [d[0], d[1]]], Any, (t, x) => Ops.Subtract(x[0], x[1])),
        new("SubtractBroadcast", d => [[d[0], d[1]], [1, d[1]]], Any, (t, x) => Ops.Subtract(x[1], x[0])),
        new("Multiply", d => [[d[0], d[1]], [d[0], d[1]]], Any, (t, x) => Ops.Multiply(x[0], x[1])),
        new("MultiplyBroadcast", d => [[d[0], d[1], d[2]], [d[2]]], Any, (t, x) => Ops.Multiply(x[0], x[1])),
        new("MultiplyByRank0", d => [[d[0], d[1]], []], Any, (t, x) => Ops.Multiply(x[1], x[0])),
        new("Divide", d => [[d[0], d[1]], [d[0], d[1]]], [Domain.Any, Domain.Positive], (t, x) => Ops.Divide(x[0], x[1])),
        new("DivideBroadcast", d => [[d[0], d[1]], [d[0], 1]], [Domain.Any, Domain.Positive], (t, x) => Ops.Divide(x[0], x[1])),
        new("Scale", d => [[d[0], d[1]]], Any, (t, x) => Ops.Scale(x[0], -1.7)),
        new("AddScalar", d => [[d[0], d[1]]], Any, (t, x) => Ops.AddScalar(x[0], 0.3)),
        new("Reciprocal", d => [[d[0], d[1]]], Pos, (t, x) => Ops.Reciprocal(x[0])),
        new("OperatorPlusMinusScalars", d => [[d[0], d[1]]], Any, (t, x) => 2.0 - (x[0] + 0.5) - 1.5),
        new("OperatorTimesDivideScalars", d => [[d[0], d[1]]], Pos, (t, x) => 3.0 / (x[0] * 2.0) + x[0] / 4.0 + (-x[0]) * 0.5),
        new("OperatorsBinary", d => [[d[0], d[1]], [d[0], d[1]]], Pos, (t, x) => (x[0] + x[1]) * x[0] - x[1] / x[0]),
        new("MatMul", d => [[d[0], d[1]], [d[1], d[2]]], Any, (t, x) => Ops.MatMul(x[0], x[1])),
        new("MatMulTransposeB", d => [[d[0], d[1]], [d[2], d[1]]], Any, (t, x) => Ops.MatMul(x[0], x[1], transposeB: true)),
        new("MatMulTransposeA", d => [[d[1], d[0]], [d[1], d[2]]], Any, (t, x) => Ops.MatMul(x[0], x[1], transposeA: true)),
        new("MatMulTransposeBoth", d => [[d[1], d[0]], [d[2], d[1]]], Any, (t, x) => Ops.MatMul(x[0], x[1], true, true)),
        new("Transpose", d => [[d[0], d[1]]], Any, (t, x) => Ops.Transpose(x[0])),
        new("Reshape", d => [[d[0], d[1], d[2]]], Any, (t, x) => Ops.Reshape(x[0], d2(x[0]), -1)),
        new("Flatten", d => [[d[0], d[1], d[2], d[3]]], Any, (t, x) => Ops.Flatten(x[0])),
        new("SumTo", d => [[d[0], d[1], d[2]]], Any, (t, x) => Ops.SumTo(x[0], x[0].Value.Dim(1), 1)),
        new("BroadcastTo", d => [[d[1], 1]], Any, (t, x) => Ops.BroadcastTo(x[0], 3, x[0].Value.Dim(0), 2)),
        new("Sum", d => [[d[0], d[1], d[2]]], Any, (t, x) => Ops.Sum(x[0])),
        new("Mean", d => [[d[0], d[1]]], Any, (t, x) => Ops.Mean(x[0])),
        new("Dot", d => [[d[0], d[1]], [d[0], d[1]]], Any, (t, x) => Ops.Dot(x[0], x[1])),
        new("Exp", d => [[d[0], d[1]]], Any, (t, x) => Ops.Exp(x[0])),
        new("Log", d => [[d[0], d[1]]], Pos, (t, x) => Ops.Log(x[0])),
        new("PowInteger", d => [[d[0], d[1]]], Any, (t, x) => Ops.Pow(x[0], 3.0)),
        new("PowFractional", d => [[d[0], d[1]]], Pos, (t, x) => Ops.Pow(x[0], 2.5)),
        new("PowNegative", d => [[d[0], d[1]]], Pos, (t, x) => Ops.Pow(x[0], -1.5)),
        new("PowZero", d => [[d[0], d[1]], [d[0], d[1]]], Any, (t, x) => Ops.Multiply(Ops.Pow(x[0], 0.0), x[1])),
        new("Square", d => [[d[0], d[1]]], Any, (t, x) => Ops.Square(x[0])),
        new("Sqrt", d => [[d[0], d[1]]], Pos, (t, x) => Ops.Sqrt(x[0])),
        new("Relu", d => [[d[0], d[1]]], Kinked, (t, x) => Ops.Relu(x[0])),
        new("LeakyRelu", d => [[d[0], d[1]]], Kinked, (t, x) => Ops.LeakyRelu(x[0], 0.1)),
        new("Sigmoid", d => [[d[0], d[1]]], Any, (t, x) => Ops.Sigmoid(x[0])),
        new("Tanh", d => [[d[0], d[1]]], Any, (t, x) => Ops.Tanh(x[0])),
        new("Identity", d => [[d[0], d[1]]], Any, (t, x) => Ops.Identity(x[0])),
        new("SumAxis0", d => [[d[0], d[1], d[2]]], Any, (t, x) => Ops.SumAxis(x[0], 0)),
        new("SumAxis1KeepDims", d => [[d[0], d[1], d[2]]], Any, (t, x) => Ops.SumAxis(x[0], 1, keepDims: true)),
        new("SumAxisLast", d => [[d[0], d[1], d[2], d[3]]], Any, (t, x) => Ops.SumAxis(x[0], -1)),
        new("MeanAxis0", d => [[d[0], d[1]]], Any, (t, x) => Ops.MeanAxis(x[0], 0)),
        new("MeanAxis2KeepDims", d => [[d[0], d[1], d[2]]], Any, (t, x) => Ops.MeanAxis(x[0], 2, keepDims: true)),
        new("NormAxis0", d => [[d[0], d[1]]], Kinked, (t, x) => Ops.Norm(x[0], 0)),
        new("NormAxis1KeepDims", d => [[d[0], d[1], d[2]]], Kinked, (t, x) => Ops.Norm(x[0], 1, keepDims: true)),
        new("SumOfSquares", d => [[d[0], d[1]]], Any, (t, x) => Ops.SumOfSquares(x[0])),
        new("RadialAxis0", d => [[d[0], d[1]]], Kinked, (t, x) => Ops.Radial(x[0], 0, R)),
        new("RadialAxis1", d => [[d[0], d[1]]], Kinked, (t, x) => Ops.Radial(x[0], 1, r => Ops.Exp(Ops.Scale(Ops.Square(r), -0.5)))),
        new("RadialScalarF", d => [[d[0], d[1]]], Kinked, (t, x) => Ops.Radial(x[0], 0, r => 1 / (1 + r), r => -1 / ((1 + r) * (1 + r))), TwiceDifferentiable: false),
        new("SquaredErrorLossMean", d => [[d[0], d[1]], [d[0], d[1]]], Any, (t, x) => Ops.SquaredErrorLoss(x[0], x[1], SquaredErrorScaling.MeanSquaredError)),
        new("SquaredErrorLossHalfMean", d => [[d[0], d[1]], [d[0], d[1]]], Any, (t, x) => Ops.SquaredErrorLoss(x[0], x[1], SquaredErrorScaling.HalfMeanSquaredError)),
        new("SquaredErrorLossSum", d => [[d[0], d[1], d[2]], [d[0], d[1], d[2]]], Any, (t, x) => Ops.SquaredErrorLoss(x[0], x[1], SquaredErrorScaling.SumOfSquares)),
        new("SquaredErrorLossHalfSum", d => [[d[0], d[1]], [d[0], d[1]]], Any, (t, x) => Ops.SquaredErrorLoss(x[0], x[1], SquaredErrorScaling.HalfSumOfSquares)),
    ];

    private static int d2(Variable<double> x) => x.Value.Dim(2);

    public static OpSpec Get(string name) => All.Single(o => o.Name == name);

    public static TheoryData<string> Names => new(All.Select(o => o.Name));

    public static TheoryData<string> TwiceDifferentiableNames => new(All.Where(o => o.TwiceDifferentiable).Select(o => o.Name));
}
