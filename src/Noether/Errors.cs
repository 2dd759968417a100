namespace Noether;

/// <summary>The one place that builds Noether's exception messages, so every error names its input.</summary>
internal static partial class Errors
{
    public static string Shape(ReadOnlySpan<int> shape) => shape.Length == 0 ? "scalar" : string.Join("×", shape.ToArray());

    public static ArgumentException ShapeMismatch(string op, string leftName, ReadOnlySpan<int> left, string rightName, ReadOnlySpan<int> right, string why) =>
        new($"{op}: {leftName} is {Shape(left)}, {rightName} is {Shape(right)} ({why})", leftName);

    public static ArgumentException BadShape(string op, string name, ReadOnlySpan<int> shape, string expected) =>
        new($"{op}: {name} is {Shape(shape)}, expected {expected}", name);

    public static ArgumentOutOfRangeException OutOfRange(string name, object? value, string expected) =>
        new(name, value, $"{name} = {value}: expected {expected}");

    /// <summary>An argument is wrong; <paramref name="message"/> says how, in words a user can act on.</summary>
    public static ArgumentException Argument(string name, string message, Exception? inner = null) =>
        new(message, Named(name), inner);

    /// <summary>A required argument is null.</summary>
    public static ArgumentNullException Null(string name, string? message = null) =>
        message is null ? new(Named(name)) : new(Named(name), message);

    /// <summary>An argument is outside its range; the message is <paramref name="message"/> as given.</summary>
    public static ArgumentOutOfRangeException ArgumentOutOfRange(string name, object? value, string message) =>
        new(Named(name), value, message);

    /// <summary>An argument is outside its range (its value is in the message).</summary>
    public static ArgumentOutOfRangeException ArgumentOutOfRange(string name, string message) =>
        new(Named(name), message);

    /// <summary>
    /// An exception's message as one line for a person: without .NET's " (Parameter 'name')" suffixes (of it and of the
    /// exceptions it wraps, whose messages it may quote) and without ArgumentOutOfRangeException's "Actual value was …"
    /// line. A line break inside a message (part of a path) is kept.
    /// </summary>
    public static string Plain(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        string line = e.Message;
        int actual = line.LastIndexOf("Actual value was ", StringComparison.Ordinal);
        if (e is ArgumentOutOfRangeException && actual > 0) line = line[..actual].TrimEnd('\r', '\n');
        for (var x = e; x is not null; x = x.InnerException)
            if (x is ArgumentException { ParamName: { } name }) line = line.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
        return line;
    }

    // Every argument exception names its parameter (or CLI option): an empty name is a bug at the throw site.
    private static string Named(string name) =>
        string.IsNullOrWhiteSpace(name) ? throw new InvalidOperationException("an argument exception needs the parameter's name") : name;

    public static void ThrowIfNotPositive(double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value)) throw OutOfRange(name, value, "a positive finite number");
    }

    public static void ThrowIfNotPositive(int value, string name)
    {
        if (value <= 0) throw OutOfRange(name, value, "a positive integer");
    }

    /// <summary>Checks several settings at once, in order; the first one that is not a positive finite number is named.</summary>
    public static void ThrowIfNotPositive(params ReadOnlySpan<(double Value, string Name)> settings)
    {
        foreach (var (value, name) in settings) ThrowIfNotPositive(value, name);
    }

    /// <summary>Checks several counts at once, in order; the first one that is not a positive integer is named.</summary>
    public static void ThrowIfNotPositive(params ReadOnlySpan<(int Value, string Name)> settings)
    {
        foreach (var (value, name) in settings) ThrowIfNotPositive(value, name);
    }
}
