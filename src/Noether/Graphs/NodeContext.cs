using System.Numerics;
using Noether.Autodiff;
using Noether.Tensors;

namespace Noether.Graphs;

/// <summary>One node's inputs, attributes and tape while it runs: the accessors op implementations use.</summary>
internal sealed class NodeContext<T>(GraphNode node, Tape<T> tape, GraphValue<T>?[] inputs, int opset, GraphOptions options, bool fuseRelu = false)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The node's only consumer is a Relu, fused into it: the op returns max(0, its output) (see <see cref="Graph{T}"/>).</summary>
    public bool FuseRelu { get; } = fuseRelu;

    public GraphNode Node { get; } = node;
    public Tape<T> Tape { get; } = tape;
    public GraphValue<T>?[] Inputs { get; } = inputs;
    public int Opset { get; } = opset;
    public GraphOptions Options { get; } = options;

    public bool Has(int i) => i < Inputs.Length && Inputs[i] is not null;

    public bool IsHost(int i) => Has(i) && Inputs[i]!.Host is not null;

    public GraphValue<T> Input(int i) =>
        Has(i) ? Inputs[i]! : throw Invalid($"input {i} is required but missing");

    public int[] Shape(int i) => Input(i).Shape;

    /// <summary>Input i as a runtime variable: a host float tensor becomes a tape constant; an integer one is refused.</summary>
    public Variable<T> Var(int i)
    {
        var v = Input(i);
        if (v.Variable is not null)
        {
            CheckRank(v.Shape);
            return v.Variable;
        }
        var h = v.Host!;
        if (!h.IsReal) throw Unsupported($"input {i} ('{Node.Inputs[i]}') is a {h.Type} tensor; Noether computes integer and boolean tensors only in shape computations it can fold");
        CheckRank(h.Shape);
        return Tape.Constant(h.ToTensor<T>());
    }

    /// <summary>Input i as a tensor known before running (a constant or a folded shape computation).</summary>
    public HostTensor Host(int i)
    {
        var v = Input(i);
        if (v.Host is not null) return v.Host;
        throw Unsupported($"input {i} ('{Node.Inputs[i]}') must be known before running (a constant or a shape computation of constants and input shapes), but it depends on the model's inputs or parameters");
    }

    /// <summary>Input i's values, runtime or folded, for ops whose output has no derivative (comparisons, indices).</summary>
    public HostTensor Values(int i)
    {
        var v = Input(i);
        return v.Host ?? new HostTensor(HostTensor.TypeOf<T>(), v.Shape, v.Variable!.Value.ToDoubles());
    }

    public void CheckRank(ReadOnlySpan<int> shape)
    {
        if (shape.Length > Tensor<T>.MaxRank)
            throw Unsupported($"a rank-{shape.Length} tensor ({Errors.Shape(shape)}); Noether's runtime tensors stop at rank {Tensor<T>.MaxRank}");
    }

    public GraphAttribute? Attribute(string name)
    {
        if (!Node.Attributes.TryGetValue(name, out var a)) return null;
        if (a.Unreadable is not null) throw Unsupported($"attribute '{name}' is a {a.Unreadable}, which Noether does not read");
        return a;
    }

    public long Int(string name, long fallback) => Attribute(name) is { } a ? a.Int ?? throw Invalid($"attribute '{name}' must be an integer") : fallback;

    public double Float(string name, double fallback) => Attribute(name) is { } a ? a.Float ?? throw Invalid($"attribute '{name}' must be a float") : fallback;

    public string String(string name, string fallback) => Attribute(name) is { } a ? a.String ?? throw Invalid($"attribute '{name}' must be a string") : fallback;

    public long[]? Ints(string name) => Attribute(name) is { } a ? a.Ints ?? throw Invalid($"attribute '{name}' must be a list of integers") : null;

    public GraphException Unsupported(string why) => Errors.GraphUnsupported(Node, why);

    public GraphException Invalid(string why) => Errors.GraphInvalid(Node, why);

    public int Axis(long axis, int rank, string what = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw Invalid($"{what} {axis} is outside [{-rank}, {rank - 1}] for a rank-{rank} tensor");
        return (int)a;
    }

    public GraphValue<T> Out(Variable<T> v) => new(v);

    public GraphValue<T> Out(HostTensor h) => new(h);

    /// <summary>Rejects attributes this implementation does not honour when they are set to anything but their default.</summary>
    public void RequireDefault(string name, long fallback)
    {
        if (Node.Attributes.ContainsKey(name) && Int(name, fallback) != fallback)
            throw Unsupported($"attribute {name} = {Int(name, fallback)} (only {fallback} is supported)");
    }
}
