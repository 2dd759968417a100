using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>Options of <see cref="TwoLayerDescent.Run"/>.</summary>
/// <param name="LearningRate">η &gt; 0.</param>
/// <param name="MaxSteps">Step limit ≥ 0.</param>
/// <param name="LossThreshold">Record the first step at which L ≤ this (null: none).</param>
/// <param name="StopAtThreshold">Stop as soon as the threshold is reached.</param>
/// <param name="GradientTolerance">Stop once ‖∇L‖ ≤ this (null: never).</param>
/// <param name="Records">About this many loss values are kept, at log-spaced steps (0 keeps none).</param>
public sealed record DescentOptions(double LearningRate, long MaxSteps, double? LossThreshold = null, bool StopAtThreshold = false,
    double? GradientTolerance = null, int Records = 200);

/// <summary>What a gradient-descent run did.</summary>
/// <param name="Steps">Steps taken.</param>
/// <param name="InitialLoss">L before the first step.</param>
/// <param name="FinalLoss">L after the last step.</param>
/// <param name="FinalGradientNorm">‖∇L‖ after the last step.</param>
/// <param name="StepsToThreshold">First step count with L ≤ the threshold (0: already at the start), or null if never reached.</param>
/// <param name="RecordedSteps">Steps at which the loss was recorded (log-spaced, with the last).</param>
/// <param name="RecordedLosses">The loss at those steps.</param>
/// <param name="Diverged">The loss became non-finite (the run stopped there).</param>
public sealed record DescentTrace(long Steps, double InitialLoss, double FinalLoss, double FinalGradientNorm, long? StepsToThreshold,
    long[] RecordedSteps, double[] RecordedLosses, bool Diverged);

/// <summary>Full-batch gradient descent θ ← θ − η∇L on a <see cref="TwoLayerProblem"/>, in place.</summary>
public static class TwoLayerDescent
{
    /// <summary>Runs GD from (U, V), updating them in place.</summary>
    /// <param name="problem">The loss.</param>
    /// <param name="u">U (m×h), updated.</param>
    /// <param name="v">V (h×n), updated.</param>
    /// <param name="options">Step size and stopping rules.</param>
    /// <param name="progress">Reports (step, loss) at the recorded steps.</param>
    /// <param name="cancellationToken">Checked every 1024 steps.</param>
    public static DescentTrace Run(TwoLayerProblem problem, Tensor<double> u, Tensor<double> v, DescentOptions options,
        IProgress<(long Step, double Loss)>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(options);
        Errors.ThrowIfNotPositive(options.LearningRate, "learning rate");
        if (options.MaxSteps < 0) throw Errors.OutOfRange("max steps", options.MaxSteps, "a non-negative step count");
        if (options.Records < 0) throw Errors.OutOfRange("records", options.Records, "a non-negative count");
        var gu = Tensor<double>.Zeros(u.ShapeArray);
        var gv = Tensor<double>.Zeros(v.ShapeArray);
        var recordAt = LogSpacedSteps(options.MaxSteps, options.Records);
        int nextRecord = 0;
        var steps = new List<long>();
        var losses = new List<double>();
        double eta = options.LearningRate;
        long? reached = null;
        double loss = problem.LossAndGradient(u, v, gu, gv), initial = loss;
        long step = 0;
        bool diverged = false;
        while (true)
        {
            if (!double.IsFinite(loss)) { diverged = true; break; }
            if (reached is null && options.LossThreshold is { } threshold && loss <= threshold) reached = step;
            if (nextRecord < recordAt.Length && recordAt[nextRecord] == step)
            {
                steps.Add(step);
                losses.Add(loss);
                progress?.Report((step, loss));
                nextRecord++;
            }
            if (step >= options.MaxSteps) break;
            if (reached is not null && options.StopAtThreshold) break;
            if (options.GradientTolerance is { } tol && Math.Sqrt(TensorOps.Dot(gu, gu) + TensorOps.Dot(gv, gv)) <= tol) break;
            if ((step & 1023) == 0) cancellationToken.ThrowIfCancellationRequested();
            Axpy(-eta, gu.Data, u.Data);
            Axpy(-eta, gv.Data, v.Data);
            step++;
            loss = problem.LossAndGradient(u, v, gu, gv);
        }
        if (steps.Count == 0 || steps[^1] != step)
        {
            steps.Add(step);
            losses.Add(loss);
        }
        double gradNorm = Math.Sqrt(TensorOps.Dot(gu, gu) + TensorOps.Dot(gv, gv));
        return new DescentTrace(step, initial, loss, gradNorm, reached, [.. steps], [.. losses], diverged);
    }

    /// <summary>0, then about <paramref name="count"/> distinct steps spaced evenly in log(1 + step) up to <paramref name="max"/>.</summary>
    public static long[] LogSpacedSteps(long max, int count)
    {
        if (count <= 0) return [];
        var set = new SortedSet<long> { 0, max };
        double top = Math.Log(1 + max);
        for (int i = 1; i < count; i++) set.Add((long)Math.Round(Math.Exp(top * i / (count - 1)) - 1));
        return set.Where(s => s >= 0 && s <= max).ToArray();
    }

    private static void Axpy(double a, double[] x, double[] y)
    {
        for (int i = 0; i < x.Length; i++) y[i] += a * x[i];
    }
}
