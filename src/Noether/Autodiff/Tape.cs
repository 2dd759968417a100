using Noether.Tensors;

namespace Noether.Autodiff;

/// <summary>
/// Reverse-mode automatic differentiation. Operations on <see cref="Variable{T}"/> are recorded in the
/// order they run, which is a topological order, so the backward pass walks the tape once from the end.
/// Backward rules are themselves tape operations: with <c>createGraph: true</c> the gradient is a
/// differentiable function and a second pass gives exact Hessian-vector products.
/// </summary>
/// <remarks>A tape is not thread-safe. Use one per training step (or call <see cref="Reset"/>).</remarks>
public sealed class Tape<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<Variable<T>> _nodes = [];
    private readonly Dictionary<Parameter<T>, Variable<T>> _bound = new(ReferenceEqualityComparer.Instance);
    private int _pauseDepth;
    private int _generation;

    /// <summary>True unless recording is paused (inside a first-order backward pass or <see cref="Pause"/>).</summary>
    public bool IsRecording => _pauseDepth == 0;

    /// <summary>Number of recorded nodes.</summary>
    public int Count => _nodes.Count;

    /// <summary>A value that needs no gradient.</summary>
    public Variable<T> Constant(Tensor<T> value, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new Variable<T>(this, value, false, null, null, name);
    }

    /// <summary>An input that needs a gradient (a leaf of the graph).</summary>
    public Variable<T> Leaf(Tensor<T> value, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        var v = new Variable<T>(this, value, true, null, null, name);
        Append(v);
        return v;
    }

    /// <summary>The leaf bound to <paramref name="parameter"/> on this tape (created on first use).</summary>
    public Variable<T> Bind(Parameter<T> parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        if (!_bound.TryGetValue(parameter, out var v))
        {
            v = Leaf(parameter.Value, parameter.Name);
            _bound.Add(parameter, v);
        }
        return v;
    }

    /// <summary>
    /// Binds <paramref name="parameter"/> to <paramref name="variable"/>, an existing leaf or constant of this tape with the
    /// parameter's shape, so modules (which call <see cref="Bind(Parameter{T})"/>) use it: a leaf to differentiate a model
    /// with respect to given inputs (e.g. those of a <see cref="HessianOperator{T}"/>), a constant to hold a parameter fixed.
    /// Must come before the parameter's first use on this tape.
    /// </summary>
    /// <exception cref="ArgumentException">The variable belongs to another tape, is an intermediate result, has another
    /// shape, or the parameter is already bound on this tape.</exception>
    public void BindTo(Parameter<T> parameter, Variable<T> variable)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(variable);
        if (!ReferenceEquals(variable.Tape, this)) throw Errors.Argument(nameof(variable), $"bind: {variable} belongs to another tape");
        if (variable.Parents is not null) throw Errors.Argument(nameof(variable), $"bind: {variable} is the result of an operation; bind a leaf or a constant");
        if (!variable.Value.SameShape(parameter.Value))
            throw Errors.ShapeMismatch("bind", nameof(variable), variable.Shape, parameter.Name, parameter.Value.Shape, "shapes must be equal");
        if (_bound.ContainsKey(parameter)) throw Errors.Argument(nameof(parameter), $"bind: {parameter} is already bound on this tape");
        _bound.Add(parameter, variable);
    }

    /// <summary>Pauses recording until the returned scope is disposed (inference, parameter updates).</summary>
    public PauseScope Pause()
    {
        _pauseDepth++;
        return new PauseScope(this);
    }

    /// <summary>Forgets every recorded node and parameter binding (variables from before become constants' peers: do not reuse them).</summary>
    public void Reset()
    {
        _nodes.Clear();
        _bound.Clear();
        _generation++;
    }

    /// <summary>
    /// Gradients of <paramref name="output"/> with respect to each of <paramref name="wrt"/>. The output must
    /// be a scalar unless a <paramref name="seed"/> (the vector in a vector-Jacobian product) is given.
    /// A variable the output does not depend on gets a zero gradient.
    /// </summary>
    /// <param name="output">The differentiated variable.</param>
    /// <param name="wrt">Variables of this tape (leaves or intermediate).</param>
    /// <param name="seed">Gradient of some scalar with respect to <paramref name="output"/>; ones when null.</param>
    /// <param name="createGraph">Record the backward pass so the gradients can be differentiated again.</param>
    public Variable<T>[] Gradient(Variable<T> output, IReadOnlyList<Variable<T>> wrt, Variable<T>? seed = null, bool createGraph = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (seed is null && output.Value.Length != 1)
            throw Errors.BadShape("gradient", nameof(output), output.Shape, "a scalar (or pass a seed of the output's shape)");
        return Gradient([output], [seed ?? Constant(Tensor<T>.Ones(output.Value.ShapeArray))], wrt, createGraph);
    }

    /// <summary>
    /// The vector-Jacobian product Σ_j seeds_jᵀ ∂outputs_j/∂wrt_i for each i: one backward pass from several
    /// outputs at once. With the outputs a gradient recorded by <c>createGraph: true</c> and the seeds a
    /// direction v, this is the Hessian-vector product Hv (the Hessian is symmetric).
    /// </summary>
    public Variable<T>[] Gradient(IReadOnlyList<Variable<T>> outputs, IReadOnlyList<Variable<T>> seeds, IReadOnlyList<Variable<T>> wrt, bool createGraph = false)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(wrt);
        if (outputs.Count != seeds.Count)
            throw Errors.Argument(nameof(seeds), $"gradient: {outputs.Count} outputs but {seeds.Count} seeds");
        for (int i = 0; i < outputs.Count; i++)
        {
            CheckOwn(outputs[i], $"{nameof(outputs)}[{i}]");
            CheckOwn(seeds[i], $"{nameof(seeds)}[{i}]");
            if (!seeds[i].Value.SameShape(outputs[i].Value))
                throw Errors.ShapeMismatch("gradient", $"seeds[{i}]", seeds[i].Shape, $"outputs[{i}]", outputs[i].Shape, "a seed must have its output's shape");
        }
        for (int i = 0; i < wrt.Count; i++) CheckOwn(wrt[i], $"{nameof(wrt)}[{i}]");

        int end = -1;
        foreach (var o in outputs) if (o.RequiresGrad) end = Math.Max(end, o.Index);
        var result = new Variable<T>[wrt.Count];
        if (end < 0)
        {
            for (int i = 0; i < wrt.Count; i++) result[i] = Constant(Tensor<T>.Zeros(wrt[i].Value.ShapeArray));
            return result;
        }

        // Only nodes that lie on a path from some wrt variable to an output need a gradient.
        var wanted = DependsOn(wrt, end, out int lowest);

        if (!createGraph) _pauseDepth++;
        try
        {
            var grads = new Variable<T>?[end + 1];
            for (int i = 0; i < outputs.Count; i++)
            {
                var o = outputs[i];
                if (!o.RequiresGrad || !wanted[o.Index]) continue;
                grads[o.Index] = grads[o.Index] is { } acc ? Ops.Add(acc, seeds[i]) : seeds[i];
            }
            // A node's gradient is dropped once it has gone to the parents (unless it is asked for), so the pass holds
            // only the gradients still to be propagated: the garbage collector can reclaim the rest as it goes.
            var keep = new bool[end + 1];
            foreach (var w in wrt) if (w.Index >= 0 && w.Index <= end) keep[w.Index] = true;
            for (int i = end; i >= lowest; i--)
            {
                var g = grads[i];
                if (g is null) continue;
                if (!keep[i]) grads[i] = null;
                var node = _nodes[i];
                if (node.Backward is null || node.Parents is null) continue;
                var parentGrads = node.Backward(g);
                for (int j = 0; j < node.Parents.Length; j++)
                {
                    var p = node.Parents[j];
                    var pg = parentGrads[j];
                    if (pg is null || p.Index < 0 || !wanted[p.Index]) continue;
                    grads[p.Index] = grads[p.Index] is { } acc ? Ops.Add(acc, pg) : pg;
                }
            }
            for (int i = 0; i < wrt.Count; i++)
            {
                var w = wrt[i];
                result[i] = (w.Index >= 0 && w.Index <= end ? grads[w.Index] : null) ?? Constant(Tensor<T>.Zeros(w.Value.ShapeArray));
            }
        }
        finally
        {
            if (!createGraph) _pauseDepth--;
        }
        return result;
    }

    /// <summary>Gradient tensors of a scalar <paramref name="output"/> with respect to parameters bound on this tape (zeros for unbound ones).</summary>
    public Tensor<T>[] Gradient(Variable<T> output, IReadOnlyList<Parameter<T>> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var wrt = new Variable<T>[parameters.Count];
        for (int i = 0; i < wrt.Length; i++)
            wrt[i] = _bound.TryGetValue(parameters[i], out var v) ? v : Constant(parameters[i].Value, parameters[i].Name);
        var g = Gradient(output, wrt);
        var result = new Tensor<T>[g.Length];
        for (int i = 0; i < g.Length; i++) result[i] = g[i].Value;
        return result;
    }

    internal Variable<T> Record(Tensor<T> value, Variable<T>[] parents, BackwardRule<T> backward) => Record(value, parents, backward, null);

    /// <summary>Records an op with a batched rule too (nodes of rank ≤ 3 only: the batch adds an axis and tensors stop at rank 4).</summary>
    internal Variable<T> Record(Tensor<T> value, Variable<T>[] parents, BackwardRule<T> backward, BatchedBackwardRule<T>? batched)
    {
        GarbageBound.Check();
        if (_pauseDepth > 0) return new Variable<T>(this, value, false, null, null, null);
        bool requires = false;
        foreach (var p in parents)
        {
            if (!ReferenceEquals(p.Tape, this))
                throw Errors.Argument(nameof(parents), $"an operation mixes variables of two tapes ({p})");
            requires |= p.RequiresGrad;
        }
        if (!requires) return new Variable<T>(this, value, false, null, null, null);
        if (batched is not null)
        {
            if (value.Rank >= Tensor<T>.MaxRank) batched = null;
            else foreach (var p in parents) if (p.Rank >= Tensor<T>.MaxRank) batched = null;
        }
        var v = new Variable<T>(this, value, true, parents, backward, null, batched);
        Append(v);
        return v;
    }

    /// <summary>
    /// Batched first-order pass: for B seeds at once (each seed tensor [B, …output shape]) the vector-Jacobian
    /// products [B, …wrt shape]. Returns null when some node on the way has no batched rule (the caller then
    /// falls back to one <see cref="Gradient(IReadOnlyList{Variable{T}}, IReadOnlyList{Variable{T}}, IReadOnlyList{Variable{T}}, bool)"/> per seed).
    /// </summary>
    internal Tensor<T>[]? BatchedGradient(IReadOnlyList<Variable<T>> outputs, IReadOnlyList<Tensor<T>> seeds, IReadOnlyList<Variable<T>> wrt, int batch)
    {
        // The batch axis needs a free rank.
        foreach (var o in outputs) if (o.Rank >= Tensor<T>.MaxRank) return null;
        foreach (var w in wrt) if (w.Rank >= Tensor<T>.MaxRank) return null;
        int end = -1;
        foreach (var o in outputs) if (o.RequiresGrad) end = Math.Max(end, o.Index);
        var result = new Tensor<T>[wrt.Count];
        if (end < 0)
        {
            for (int i = 0; i < wrt.Count; i++) result[i] = Tensor<T>.Zeros(Batched.With(batch, wrt[i].Shape));
            return result;
        }
        // Nodes reachable backwards from the seeded outputs …
        var reached = new bool[end + 1];
        foreach (var o in outputs) if (o.RequiresGrad) reached[o.Index] = true;
        // … that also lie on a path from a wrt variable.
        var wanted = DependsOn(wrt, end, out int lowest);
        for (int i = end; i >= lowest; i--)
        {
            if (!reached[i] || !wanted[i]) continue;
            var node = _nodes[i];
            if (node.Parents is null) continue;
            if (node.BatchedBackward is null) return null;
            foreach (var p in node.Parents) if (p.Index >= 0) reached[p.Index] = true;
        }

        var grads = new Tensor<T>?[end + 1];
        for (int i = 0; i < outputs.Count; i++)
        {
            var o = outputs[i];
            if (!o.RequiresGrad || !wanted[o.Index]) continue;
            grads[o.Index] = grads[o.Index] is { } acc ? TensorOps.Binary(BinaryOp.Add, acc, seeds[i]) : seeds[i];
        }
        for (int i = end; i >= lowest; i--)
        {
            var g = grads[i];
            if (g is null) continue;
            var node = _nodes[i];
            if (node.BatchedBackward is null || node.Parents is null) continue;
            var parentGrads = node.BatchedBackward(g);
            for (int j = 0; j < node.Parents.Length; j++)
            {
                var p = node.Parents[j];
                var pg = parentGrads[j];
                if (pg is null || p.Index < 0 || !wanted[p.Index]) continue;
                grads[p.Index] = grads[p.Index] is { } acc ? TensorOps.Binary(BinaryOp.Add, acc, pg) : pg;
            }
        }
        for (int i = 0; i < wrt.Count; i++)
        {
            var w = wrt[i];
            result[i] = (w.Index >= 0 && w.Index <= end ? grads[w.Index] : null) ?? Tensor<T>.Zeros(Batched.With(batch, w.Shape));
        }
        return result;
    }

    private void Append(Variable<T> v)
    {
        v.Index = _nodes.Count;
        v.Generation = _generation;
        _nodes.Add(v);
    }

    /// <summary>
    /// Marks the nodes up to <paramref name="end"/> that depend on some of <paramref name="wrt"/> (the only ones a
    /// backward pass needs to visit); <paramref name="lowest"/> is the first such node.
    /// </summary>
    private bool[] DependsOn(IReadOnlyList<Variable<T>> wrt, int end, out int lowest)
    {
        var wanted = new bool[end + 1];
        lowest = end + 1;
        foreach (var w in wrt)
            if (w.Index >= 0 && w.Index <= end)
            {
                wanted[w.Index] = true;
                lowest = Math.Min(lowest, w.Index);
            }
        for (int i = lowest + 1; i <= end; i++)
        {
            if (wanted[i]) continue;
            var parents = _nodes[i].Parents;
            if (parents is null) continue;
            foreach (var p in parents)
                if (p.Index >= 0 && wanted[p.Index]) { wanted[i] = true; break; }
        }
        return wanted;
    }

    private void CheckOwn(Variable<T> v, string name)
    {
        ArgumentNullException.ThrowIfNull(v, name);
        if (!ReferenceEquals(v.Tape, this)) throw Errors.Argument(name, $"{name} belongs to another tape");
        if (v.Index >= 0 && v.Generation != _generation)
            throw Errors.Argument(name, $"{name} was recorded before the tape was reset");
    }

    /// <summary>Resumes recording when disposed.</summary>
    public readonly struct PauseScope(Tape<T> tape) : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose() => tape._pauseDepth--;
    }
}
