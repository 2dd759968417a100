namespace Noether;

// The graph part of the one exception factory: it lives with the graphs it describes, so Errors.cs (the root layer)
// uses no higher layer.
internal static partial class Errors
{
    /// <summary>A graph node uses something Noether does not run (the message names the node, its op type and why).</summary>
    public static Graphs.GraphException GraphUnsupported(Graphs.GraphNode node, string why) =>
        new($"node '{node.Name}' ({node.OpType}): {why}", node.Name, node.OpType, unsupported: true);

    /// <summary>A graph node is malformed or cannot run on the values it was given.</summary>
    public static Graphs.GraphException GraphInvalid(Graphs.GraphNode node, string why, Exception? inner = null) =>
        new($"node '{node.Name}' ({node.OpType}): {why}", node.Name, node.OpType, unsupported: false, inner);
}
