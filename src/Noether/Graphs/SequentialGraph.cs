using Noether.Autodiff;
using Noether.Nn;

namespace Noether.Graphs;

/// <summary>
/// A <see cref="Sequential{T}"/> (an MLP of <see cref="Linear{T}"/> and activation layers, the SPEC CNN's conv → max-pool →
/// flatten → linear → LeakyReLU → linear) as a <see cref="Graph{T}"/> of the ONNX ops PyTorch exports for the same layers
/// (Gemm with transB, Conv, MaxPool, Flatten, Relu/LeakyRelu/Sigmoid/Tanh): the same function over the same
/// <see cref="Parameter{T}"/> objects (names 0.weight, 0.bias, …), so everything built for imported graphs — the
/// symmetry census, curvature, the model report — applies to the paper's networks too.
/// </summary>
public static class SequentialGraph
{
    /// <summary>The graph of <paramref name="model"/> for inputs of <paramref name="sampleShape"/> (one sample, no batch axis).</summary>
    /// <exception cref="ArgumentException">A layer without an ONNX counterpart here (a radial or custom activation, a nested module).</exception>
    public static Graph<T> Of<T>(Sequential<T> model, IReadOnlyList<int> sampleShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampleShape);
        var nodes = new List<GraphNode>();
        string current = "input";
        foreach (var layer in model.Layers)
        {
            string output = layer.Name + ".out";
            nodes.Add(layer switch
            {
                Linear<T> l => new GraphNode(layer.Name, "Gemm", l.Bias is null ? [current, l.Weight.Name] : [current, l.Weight.Name, l.Bias.Name], [output],
                    new Dictionary<string, GraphAttribute> { ["transB"] = new() { Int = 1 } }),
                Conv2d<T> c => new GraphNode(layer.Name, "Conv", c.Bias is null ? [current, c.Weight.Name] : [current, c.Weight.Name, c.Bias.Name], [output],
                    new Dictionary<string, GraphAttribute>
                    {
                        ["kernel_shape"] = new() { Ints = [c.KernelSize, c.KernelSize] },
                        ["strides"] = new() { Ints = [c.Stride, c.Stride] },
                        ["pads"] = new() { Ints = [c.Padding, c.Padding, c.Padding, c.Padding] },
                    }),
                MaxPool2d<T> p => new GraphNode(layer.Name, "MaxPool", [current], [output], new Dictionary<string, GraphAttribute>
                {
                    ["kernel_shape"] = new() { Ints = [p.KernelSize, p.KernelSize] },
                    ["strides"] = new() { Ints = [p.Stride, p.Stride] },
                }),
                Flatten<T> => new GraphNode(layer.Name, "Flatten", [current], [output], new Dictionary<string, GraphAttribute> { ["axis"] = new() { Int = 1 } }),
                Activation<T> a => Activation(layer.Name, a.Function, current, output),
                _ => throw Errors.Argument(nameof(model), $"sequential graph: layer '{layer.Name}' ({layer.GetType().Name}) has no ONNX counterpart here"),
            });
            current = output;
        }
        int?[] shape = [null, .. sampleShape.Select(d => (int?)d)];
        return new Graph<T>(nodes, [new GraphInput("input", typeof(T) == typeof(double) ? ElementType.Double : ElementType.Float, shape, shape.Select(_ => (string?)null).ToArray())],
            [current], model.Parameters, new Dictionary<string, HostTensor>(), 17);
    }

    private static GraphNode Activation(string name, Nn.Activation function, string input, string output) => function.Kind switch
    {
        ActivationKind.Identity => new GraphNode(name, "Identity", [input], [output]),
        ActivationKind.Relu => new GraphNode(name, "Relu", [input], [output]),
        ActivationKind.LeakyRelu => new GraphNode(name, "LeakyRelu", [input], [output], new Dictionary<string, GraphAttribute> { ["alpha"] = new() { Float = function.Slope } }),
        ActivationKind.Sigmoid => new GraphNode(name, "Sigmoid", [input], [output]),
        ActivationKind.Tanh => new GraphNode(name, "Tanh", [input], [output]),
        _ => throw Errors.Argument(nameof(function), $"sequential graph: activation '{function.Name}' ({function.Kind}) has no ONNX counterpart"),
    };
}
