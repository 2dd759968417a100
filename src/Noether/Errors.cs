namespace Noether;

/// <summary>The one place that builds Noether's exception messages, so every error names its input.</summary>
internal static class Errors
{
    public static string Shape(ReadOnlySpan<int> shape) => shape.Length == 0 ? "scalar" : string.Join("×", shape.ToArray());

    public static ArgumentException ShapeMismatch(string op, string leftName, ReadOnlySpan<int> left, string rightName, ReadOnlySpan<int> right, string why) =>
        new($"{op}: {leftName} is {Shape(left)}, {rightName} is {Shape(right)} ({why})", leftName);

    public static ArgumentException BadShape(string op, string name, ReadOnlySpan<int> shape, string expected) =>
        new($"{op}: {name} is {Shape(shape)}, expected {expected}", name);

    public static ArgumentOutOfRangeException OutOfRange(string name, object? value, string expected) =>
        new(name, value, $"{name} = {value}: expected {expected}");

    /// <summary>A graph node uses something Noether does not run (the message names the node, its op type and why).</summary>
    public static Graphs.GraphException GraphUnsupported(Graphs.GraphNode node, string why) =>
        new($"node '{node.Name}' ({node.OpType}): {why}", node.Name, node.OpType, unsupported: true);

    /// <summary>A graph node is malformed or cannot run on the values it was given.</summary>
    public static Graphs.GraphException GraphInvalid(Graphs.GraphNode node, string why, Exception? inner = null) =>
        new($"node '{node.Name}' ({node.OpType}): {why}", node.Name, node.OpType, unsupported: false, inner);

    public static void ThrowIfNotPositive(double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value)) throw OutOfRange(name, value, "a positive finite number");
    }

    public static void ThrowIfNotPositive(int value, string name)
    {
        if (value <= 0) throw OutOfRange(name, value, "a positive integer");
    }
}
