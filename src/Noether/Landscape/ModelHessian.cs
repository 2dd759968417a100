using Noether.Autodiff;
using Noether.Graphs;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>
/// Hessians of a model's loss with respect to its parameters (all, or a chosen subset such as the last layers), as
/// <see cref="HessianOperator{T}"/>s: the model runs on a fresh tape whose parameter leaves are the operator's inputs,
/// so every product is an exact double-backward pass. Works for any <see cref="Module{T}"/> built from twice-
/// differentiable ops — including the SPEC CNN, whose convolution, pooling and cross-entropy rules differentiate again.
/// </summary>
public static class ModelHessian
{
    /// <summary>
    /// The Hessian of <paramref name="loss"/>(model(<paramref name="inputs"/>)) with respect to <paramref name="wrt"/>
    /// (default: every parameter of the model, in registration order); the other parameters are held fixed.
    /// </summary>
    /// <param name="model">The model (its parameters' current values are the point).</param>
    /// <param name="inputs">A batch, as the model's forward pass expects it.</param>
    /// <param name="loss">The loss of the model's output (recorded on the given tape).</param>
    /// <param name="wrt">The parameters to differentiate with respect to; each must belong to the model, without repeats.</param>
    /// <exception cref="ArgumentException">A parameter that is not the model's, a repeated one, or an empty list.</exception>
    public static HessianOperator<T> Create<T>(Module<T> model, Tensor<T> inputs, Func<Tape<T>, Variable<T>, Variable<T>> loss,
        IReadOnlyList<Parameter<T>>? wrt = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(loss);
        return Create(model.Parameters, model.ToString() ?? "the model", tape => model.Forward(tape, tape.Constant(inputs)), loss, wrt);
    }

    /// <summary>
    /// The Hessian of <paramref name="loss"/>(output 0 of <paramref name="graph"/> run on <paramref name="inputs"/>) with
    /// respect to <paramref name="wrt"/> (default: every parameter of the graph, in its order); the others are held fixed.
    /// The graph's options decide how it runs (e.g. BatchNorm in inference mode).
    /// </summary>
    /// <exception cref="ArgumentException">A graph without exactly one input, a parameter that is not the graph's, a repeated one, or an empty list.</exception>
    public static HessianOperator<T> Create<T>(Graph<T> graph, Tensor<T> inputs, Func<Tape<T>, Variable<T>, Variable<T>> loss,
        IReadOnlyList<Parameter<T>>? wrt = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(loss);
        if (graph.Inputs.Count != 1) throw Errors.Argument(nameof(graph), $"model hessian: the graph has {graph.Inputs.Count} inputs, expected one (the batch)");
        return Create(graph.Parameters, "the graph", tape => graph.Run(tape, [tape.Constant(inputs)]).Output(tape, 0), loss, wrt);
    }

    // The parameters in wrt become the operator's leaves, the others constants; forward records the model's output.
    private static HessianOperator<T> Create<T>(IReadOnlyList<Parameter<T>> all, string owner, Func<Tape<T>, Variable<T>> forward,
        Func<Tape<T>, Variable<T>, Variable<T>> loss, IReadOnlyList<Parameter<T>>? wrt) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var chosen = wrt ?? all;
        if (chosen.Count == 0) throw Errors.Argument(nameof(wrt), $"model hessian: no parameters to differentiate with respect to ({owner})");
        var set = new HashSet<Parameter<T>>(ReferenceEqualityComparer.Instance);
        foreach (var p in chosen)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(wrt));
            if (!all.Contains(p)) throw Errors.Argument(nameof(wrt), $"model hessian: {p} is not a parameter of {owner} (its parameters: {string.Join(", ", all.Select(q => q.Name))})");
            if (!set.Add(p)) throw Errors.Argument(nameof(wrt), $"model hessian: {p} is listed twice");
        }
        var fixedParameters = all.Where(p => !set.Contains(p)).ToArray();
        var chosenArray = chosen.ToArray();
        ScalarFunction<T> function = (tape, leaves) =>
        {
            for (int i = 0; i < chosenArray.Length; i++) tape.BindTo(chosenArray[i], leaves[i]);
            foreach (var p in fixedParameters) tape.BindTo(p, tape.Constant(p.Value, p.Name));
            var value = loss(tape, forward(tape));
            if (value is null || value.Value.Length != 1) throw new InvalidOperationException("model hessian: the loss must return a scalar variable");
            return value;
        };
        return new HessianOperator<T>(function, chosenArray.Select(p => p.Value).ToArray());
    }

    /// <summary>The Hessian of the mean cross-entropy of a classifier's logits on a labelled batch (see <see cref="Create{T}(Module{T}, Tensor{T}, Func{Tape{T}, Variable{T}, Variable{T}}, IReadOnlyList{Parameter{T}}?)"/>).</summary>
    public static HessianOperator<T> CrossEntropy<T>(Module<T> model, Tensor<T> inputs, int[] labels, IReadOnlyList<Parameter<T>>? wrt = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(labels);
        return Create(model, inputs, (_, logits) => Ops.CrossEntropy(logits, labels), wrt);
    }

    /// <summary>The Hessian of the mean cross-entropy of a graph's output 0 (the logits) on a labelled batch (see <see cref="Create{T}(Graph{T}, Tensor{T}, Func{Tape{T}, Variable{T}, Variable{T}}, IReadOnlyList{Parameter{T}}?)"/>).</summary>
    public static HessianOperator<T> CrossEntropy<T>(Graph<T> graph, Tensor<T> inputs, int[] labels, IReadOnlyList<Parameter<T>>? wrt = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(labels);
        return Create(graph, inputs, (_, logits) => Ops.CrossEntropy(logits, labels), wrt);
    }
}
