using Noether.Nn;
using Noether.Tensors;
using static Noether.Conservation.DormandPrince;

namespace Noether.Conservation;

/// <summary>The integration scheme of <see cref="GradientFlow"/>.</summary>
public enum GradientFlowMethod
{
    /// <summary>Dormand–Prince 5(4) with embedded error estimate, step-size control and FSAL.</summary>
    DormandPrince45,
    /// <summary>Classical fourth-order Runge–Kutta with the fixed step <see cref="GradientFlowOptions.FixedStep"/>.</summary>
    RungeKutta4,
}

/// <summary>Integrator settings.</summary>
/// <param name="RelativeTolerance">Per-component relative error allowed per step (Dormand–Prince).</param>
/// <param name="AbsoluteTolerance">Per-component absolute error allowed per step (Dormand–Prince).</param>
/// <param name="InitialStep">First trial step (Dormand–Prince).</param>
/// <param name="MaxStep">Largest step (Dormand–Prince).</param>
/// <param name="MaxSteps">Give up (with an exception) after this many attempted steps.</param>
/// <param name="Method">The scheme.</param>
/// <param name="FixedStep">Step of <see cref="GradientFlowMethod.RungeKutta4"/>.</param>
/// <param name="MinStep">When the error control asks for a step below this, the step is taken anyway (counted in
/// <see cref="GradientFlowResult.ForcedSteps"/>). 0 (the default) never forces: the integration then fails with a clear
/// message where the gradient is discontinuous and the flow slides along the discontinuity (e.g. a ReLU pre-activation
/// held at 0 by the data of other samples), since no explicit scheme can meet a tolerance there.</param>
public sealed record GradientFlowOptions(double RelativeTolerance = 1e-10, double AbsoluteTolerance = 1e-12, double InitialStep = 1e-3,
    double MaxStep = double.PositiveInfinity, long MaxSteps = 5_000_000, GradientFlowMethod Method = GradientFlowMethod.DormandPrince45,
    double FixedStep = 1e-3, double MinStep = 0);

/// <summary>A point on the flow handed to the observer (the tensors are fresh copies).</summary>
/// <param name="Time">t.</param>
/// <param name="Parameters">θ(t).</param>
/// <param name="Loss">L(θ(t)).</param>
/// <param name="Gradient">∇L(θ(t)); the velocity is θ̇ = −∇L.</param>
public sealed record FlowPoint(double Time, Tensor<double>[] Parameters, double Loss, Tensor<double>[] Gradient);

/// <summary>What an integration did.</summary>
/// <param name="Final">θ(T).</param>
/// <param name="Time">T.</param>
/// <param name="FinalLoss">L(θ(T)).</param>
/// <param name="AcceptedSteps">Steps accepted.</param>
/// <param name="RejectedSteps">Steps rejected by the error control.</param>
/// <param name="GradientEvaluations">Calls of the loss-and-gradient function.</param>
/// <param name="ForcedSteps">Steps taken at <see cref="GradientFlowOptions.MinStep"/> without meeting the tolerance.</param>
public sealed record GradientFlowResult(Tensor<double>[] Final, double Time, double FinalLoss, long AcceptedSteps, long RejectedSteps, long GradientEvaluations,
    long ForcedSteps = 0);

/// <summary>What a flat integration did.</summary>
/// <param name="Final">θ(T).</param>
/// <param name="Loss">L(θ(T)).</param>
/// <param name="Accepted">Steps accepted (forced ones included).</param>
/// <param name="Rejected">Steps rejected.</param>
/// <param name="Forced">Steps taken at the minimum step without meeting the tolerance.</param>
/// <param name="Evaluations">Gradient evaluations.</param>
public sealed record FlatFlowResult(double[] Final, double Loss, long Accepted, long Rejected, long Forced, long Evaluations);

/// <summary>A loss and its gradient on a flat parameter vector: writes ∇L(θ) into <paramref name="gradient"/>, returns L(θ).</summary>
public delegate double FlatLossGradient(ReadOnlySpan<double> theta, Span<double> gradient);

/// <summary>
/// Gradient flow θ̇ = −∇L(θ) (eq. 23 with ε = I), integrated accurately enough that conservation laws can be seen
/// without the O(η²) drift of gradient descent (Appendix D): the default is Dormand–Prince 5(4) with error control
/// (Hairer–Nørsett–Wanner's coefficients and step rule), which also steps carefully across the kinks of ReLU.
/// </summary>
public static class GradientFlow
{
    /// <summary>Integrates from θ₀ over [0, <paramref name="endTime"/>] for tensor-list parameters.</summary>
    /// <param name="lossAndGradient">θ ↦ (L, ∇L), e.g. <see cref="TwoLayerNetwork.LossFunction"/>.</param>
    /// <param name="initial">θ₀ (not modified).</param>
    /// <param name="endTime">T &gt; 0.</param>
    /// <param name="options">Tolerances and scheme.</param>
    /// <param name="observer">Called at t = 0 and after every accepted step, or only at <paramref name="outputTimes"/> when given.</param>
    /// <param name="outputTimes">Increasing times in (0, T] at which to observe; steps are shortened to land on them exactly.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public static GradientFlowResult Integrate(Func<IReadOnlyList<Tensor<double>>, LossGradient> lossAndGradient, IReadOnlyList<Tensor<double>> initial,
        double endTime, GradientFlowOptions? options = null, Action<FlowPoint>? observer = null, IReadOnlyList<double>? outputTimes = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lossAndGradient);
        ArgumentNullException.ThrowIfNull(initial);
        var shapes = initial.Select(t => t.ShapeArray).ToArray();
        var flat = Flatten(initial);
        double Field(ReadOnlySpan<double> theta, Span<double> gradient)
        {
            var lg = lossAndGradient(Unflatten(theta, shapes));
            int offset = 0;
            for (int i = 0; i < lg.Gradient.Length; i++)
            {
                if (!lg.Gradient[i].Shape.SequenceEqual(shapes[i]))
                    throw Errors.ShapeMismatch("gradient flow", $"gradient[{i}]", lg.Gradient[i].Shape, $"parameter {i}", shapes[i], "the gradient must match the parameter");
                lg.Gradient[i].Data.CopyTo(gradient[offset..]);
                offset += lg.Gradient[i].Length;
            }
            return lg.Loss;
        }
        Action<double, double[], double, double[]>? flatObserver = observer is null ? null
            : (t, theta, loss, gradient) => observer(new FlowPoint(t, Unflatten(theta, shapes), loss, Unflatten(gradient, shapes)));
        var r = IntegrateFlat(Field, flat, endTime, options ?? new GradientFlowOptions(), flatObserver, outputTimes, cancellationToken);
        return new GradientFlowResult(Unflatten(r.Final, shapes), endTime, r.Loss, r.Accepted, r.Rejected, r.Evaluations, r.Forced);
    }

    /// <summary>
    /// Integrates on a flat parameter vector (no allocation per step beyond the stages); the observer receives
    /// (t, θ, L, ∇L) in buffers it must copy to keep.
    /// </summary>
    public static FlatFlowResult IntegrateFlat(FlatLossGradient lossAndGradient,
        double[] initial, double endTime, GradientFlowOptions options, Action<double, double[], double, double[]>? observer = null,
        IReadOnlyList<double>? outputTimes = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lossAndGradient);
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(options);
        Errors.ThrowIfNotPositive(endTime, nameof(endTime));
        Errors.ThrowIfNotPositive(options.RelativeTolerance, "options.RelativeTolerance");
        Errors.ThrowIfNotPositive(options.AbsoluteTolerance, "options.AbsoluteTolerance");
        Errors.ThrowIfNotPositive(options.InitialStep, "options.InitialStep");
        if (!(options.MaxStep > 0)) throw Errors.OutOfRange("options.MaxStep", options.MaxStep, "a positive step");
        Errors.ThrowIfNotPositive(options.FixedStep, "options.FixedStep");
        if (!(options.MinStep >= 0)) throw Errors.OutOfRange("options.MinStep", options.MinStep, "a step ≥ 0");
        var outputs = CheckOutputTimes(outputTimes, endTime);
        return options.Method == GradientFlowMethod.DormandPrince45
            ? IntegrateDormandPrince(lossAndGradient, initial, endTime, options, observer, outputs, cancellationToken)
            : RungeKutta4(lossAndGradient, initial, endTime, options, observer, outputs, cancellationToken);
    }

    // Dormand–Prince's tableau (shared with DormandPrince.Solve); the loop is its own because the flow's error control
    // differs (RMS norm, forced minimum steps, FSAL loss kept), and its results are compared bit for bit with stored runs.
    private static FlatFlowResult IntegrateDormandPrince(FlatLossGradient f, double[] initial, double endTime, GradientFlowOptions o,
        Action<double, double[], double, double[]>? observer, double[]? outputs, CancellationToken ct)
    {
        int d = initial.Length;
        var y = (double[])initial.Clone();
        var yNew = new double[d];
        var tmp = new double[d];
        // k_i hold gradients (the field is −gradient, folded into the combination signs).
        var k1 = new double[d]; var k2 = new double[d]; var k3 = new double[d]; var k4 = new double[d];
        var k5 = new double[d]; var k6 = new double[d]; var k7 = new double[d];
        long evaluations = 0, accepted = 0, rejected = 0, forced = 0;
        double loss = f(y, k1); evaluations++;
        double lossNew = loss;
        observer?.Invoke(0, y, loss, k1);
        double t = 0, h = Math.Min(o.InitialStep, Math.Min(o.MaxStep, endTime));
        int nextOutput = 0;
        while (t < endTime)
        {
            ct.ThrowIfCancellationRequested();
            if (accepted + rejected >= o.MaxSteps)
                throw new InvalidOperationException($"gradient flow: {o.MaxSteps} steps did not reach t = {endTime} (stuck at t = {t}, step {h:G3}). " +
                    "If the gradient is discontinuous (ReLU kinks) the flow may be sliding along a kink, where no explicit scheme meets a tolerance: " +
                    "set MinStep to push through, use whitened inputs (X = I), or loosen the tolerances");
            double target = outputs is not null && nextOutput < outputs.Length ? outputs[nextOutput] : endTime;
            bool hits = t + h >= target * (1 - 1e-15);
            double step = hits ? target - t : h;

            Stage(y, step, tmp, (A21, k1)); f(tmp, k2);
            Stage(y, step, tmp, (A31, k1), (A32, k2)); f(tmp, k3);
            Stage(y, step, tmp, (A41, k1), (A42, k2), (A43, k3)); f(tmp, k4);
            Stage(y, step, tmp, (A51, k1), (A52, k2), (A53, k3), (A54, k4)); f(tmp, k5);
            Stage(y, step, tmp, (A61, k1), (A62, k2), (A63, k3), (A64, k4), (A65, k5)); f(tmp, k6);
            Stage(y, step, yNew, (B1, k1), (B3, k3), (B4, k4), (B5, k5), (B6, k6));
            lossNew = f(yNew, k7);
            evaluations += 6;

            double err = 0;
            for (int i = 0; i < d; i++)
            {
                double e = step * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
                double scale = o.AbsoluteTolerance + o.RelativeTolerance * Math.Max(Math.Abs(y[i]), Math.Abs(yNew[i]));
                err += (e / scale) * (e / scale);
            }
            err = Math.Sqrt(err / Math.Max(1, d));
            if (!double.IsFinite(err)) throw new InvalidOperationException($"gradient flow: the state became non-finite at t = {t} (step {step})");
            double factor = err == 0 ? 5 : Math.Clamp(0.9 * Math.Pow(err, -0.2), 0.2, 5);
            bool force = err > 1 && step <= o.MinStep;
            if (force) forced++;
            if (err <= 1 || force)
            {
                t = hits ? target : t + step;
                (y, yNew) = (yNew, y);
                (k1, k7) = (k7, k1); // FSAL: the last stage is the gradient at the new point.
                loss = lossNew;
                accepted++;
                if (hits && outputs is not null && nextOutput < outputs.Length) nextOutput++;
                if (observer is not null && (outputs is null || hits)) observer(t, y, loss, k1);
                if (!hits || step >= h) h = Math.Max(o.MinStep, Math.Min(o.MaxStep, step * factor));
            }
            else
            {
                rejected++;
                h = Math.Max(o.MinStep, step * Math.Max(0.2, factor));
            }
        }
        return new FlatFlowResult(y, loss, accepted, rejected, forced, evaluations);
    }

    private static FlatFlowResult RungeKutta4(FlatLossGradient f, double[] initial, double endTime, GradientFlowOptions o,
        Action<double, double[], double, double[]>? observer, double[]? outputs, CancellationToken ct)
    {
        int d = initial.Length;
        var y = (double[])initial.Clone();
        var tmp = new double[d];
        var k1 = new double[d]; var k2 = new double[d]; var k3 = new double[d]; var k4 = new double[d];
        long evaluations = 0, steps = 0;
        double loss = f(y, k1); evaluations++;
        observer?.Invoke(0, y, loss, k1);
        double t = 0;
        int nextOutput = 0;
        while (t < endTime)
        {
            ct.ThrowIfCancellationRequested();
            if (steps >= o.MaxSteps) throw new InvalidOperationException($"gradient flow: {o.MaxSteps} RK4 steps did not reach t = {endTime}");
            double target = outputs is not null && nextOutput < outputs.Length ? outputs[nextOutput] : endTime;
            bool hits = t + o.FixedStep >= target * (1 - 1e-15);
            double step = hits ? target - t : o.FixedStep;
            Stage(y, step, tmp, (0.5, k1)); f(tmp, k2);
            Stage(y, step, tmp, (0.5, k2)); f(tmp, k3);
            Stage(y, step, tmp, (1.0, k3)); f(tmp, k4);
            for (int i = 0; i < d; i++) y[i] -= step * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]) / 6;
            t = hits ? target : t + step;
            loss = f(y, k1);
            evaluations += 4;
            steps++;
            if (hits && outputs is not null && nextOutput < outputs.Length) nextOutput++;
            if (observer is not null && (outputs is null || hits)) observer(t, y, loss, k1);
        }
        return new FlatFlowResult(y, loss, steps, 0, 0, evaluations);
    }

    // destination = y − step·Σ a_j k_j (the field is −∇L).
    private static void Stage(double[] y, double step, double[] destination, params (double A, double[] K)[] terms)
    {
        Array.Copy(y, destination, y.Length);
        foreach (var (a, k) in terms)
        {
            double s = -step * a;
            for (int i = 0; i < y.Length; i++) destination[i] += s * k[i];
        }
    }

    private static double[]? CheckOutputTimes(IReadOnlyList<double>? times, double endTime)
    {
        if (times is null) return null;
        var result = times.ToArray();
        for (int i = 0; i < result.Length; i++)
        {
            if (!(result[i] > 0 && result[i] <= endTime)) throw Errors.OutOfRange($"outputTimes[{i}]", result[i], $"a time in (0, {endTime}]");
            if (i > 0 && !(result[i] > result[i - 1])) throw Errors.OutOfRange($"outputTimes[{i}]", result[i], "times in increasing order");
        }
        return result;
    }

    /// <summary>Concatenates the tensors (row-major, in order).</summary>
    public static double[] Flatten(IReadOnlyList<Tensor<double>> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var flat = new double[tensors.Sum(t => t.Length)];
        int offset = 0;
        foreach (var t in tensors)
        {
            t.Data.CopyTo(flat, offset);
            offset += t.Length;
        }
        return flat;
    }

    /// <summary>Splits a flat vector into fresh tensors of the given shapes.</summary>
    public static Tensor<double>[] Unflatten(ReadOnlySpan<double> flat, IReadOnlyList<int[]> shapes)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        var result = new Tensor<double>[shapes.Count];
        int offset = 0;
        for (int i = 0; i < result.Length; i++)
        {
            int n = 1;
            foreach (int dim in shapes[i]) n *= dim;
            result[i] = new Tensor<double>(flat.Slice(offset, n).ToArray(), shapes[i]);
            offset += n;
        }
        if (offset != flat.Length) throw Errors.Argument(nameof(flat), $"unflatten: {flat.Length} values for shapes holding {offset}");
        return result;
    }
}
