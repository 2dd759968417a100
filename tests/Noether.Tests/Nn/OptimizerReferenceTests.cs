using System.Text.Json;
using Noether.Autodiff;
using Noether.Interop;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Interop;
using Noether.Tests.Support;

namespace Noether.Tests.Nn;

/// <summary>
/// Every optimiser against PyTorch's own torch.optim classes: three float64 steps on f(θ) = Σ aᵢθᵢ²/2 + θᵢ⁴/4 from
/// θ₀ = (1, −2, 0.5), the trajectories recorded by tests/fixtures/optim/make_optim_reference.py. Both sides
/// compute in float64 with the same formulas up to operation order, so 1e-12 relative bounds a few roundings per
/// step amplified over three steps; a wrong rule (bias correction, decay coupling, momentum buffer) differs at 1e-3.
/// </summary>
public sealed class OptimizerReferenceTests
{
    private static readonly JsonElement Reference = JsonDocument.Parse(File.ReadAllText(
        Path.Combine(OnnxZooTests.Folder, "..", "optim", "optim_reference.json"))).RootElement;

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Reference.GetProperty("cases").EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    private static Optimizer<double> Create(string optimizer, JsonElement s, Parameter<double> p)
    {
        double Get(string key, double fallback) => s.TryGetProperty(key, out var v) ? v.GetDouble() : fallback;
        bool nesterov = s.TryGetProperty("nesterov", out var n) && n.GetBoolean();
        double lr = Get("lr", double.NaN), wd = Get("weight_decay", 0), momentum = Get("momentum", 0);
        return optimizer switch
        {
            "SGD" => new Sgd<double>([p], lr, momentum, nesterov, wd),
            "Adagrad" => new AdaGrad<double>([p], lr, weightDecay: wd),
            "RMSprop" => new RmsProp<double>([p], lr, momentum: momentum, weightDecay: wd),
            "Adam" => new Adam<double>([p], lr, weightDecay: wd),
            "AdamW" => new AdamW<double>([p], lr, weightDecay: wd),
            _ => throw new InvalidOperationException(optimizer),
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ThreeSteps_MatchPyTorch(string name)
    {
        var c = Reference.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        double[] a = Reference.GetProperty("a").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var p = new Parameter<double>("theta", Tensor<double>.FromDoubles(Reference.GetProperty("theta0").EnumerateArray().Select(e => e.GetDouble()).ToArray(), 3));
        var optimizer = Create(c.GetProperty("optimizer").GetString()!, c.GetProperty("settings"), p);
        int step = 0;
        foreach (var expected in c.GetProperty("steps").EnumerateArray())
        {
            var g = Tensor<double>.FromDoubles(Enumerable.Range(0, 3).Select(i => a[i] * p.Value[i] + Math.Pow(p.Value[i], 3)).ToArray(), 3);
            optimizer.Step([g]);
            step++;
            Close.Assert(expected.EnumerateArray().Select(e => e.GetDouble()).ToArray(), p.Value.ToDoubles(), 1e-12, 0, $"{name} step {step}");
        }
    }

    [Fact]
    public void AdamW_FirstStep_IsHandComputed()
    {
        // Step 1 of Adam moves each coordinate by lr·sign(g) (m̂ = g, √v̂ = |g|, ε negligible); AdamW first shrinks θ by
        // (1 − lr·λ): θ₁ = θ₀(1 − 0.1·0.1) − 0.1·sign(g). For θ₀ = 2 (g > 0): 1.98 − 0.1 = 1.88.
        var p = new Parameter<double>("w", Tensor<double>.FromDoubles([2.0, -1.0], 2));
        var opt = new AdamW<double>([p], 0.1, epsilon: 0, weightDecay: 0.1);
        opt.Step([Tensor<double>.FromDoubles([3.0, -0.5], 2)]);
        Close.Assert([1.88, -0.99 + 0.1], p.Value.ToDoubles(), 1e-15);
    }

    [Fact]
    public void CoupledDecay_LeavesTheCallersGradientUnchanged()
    {
        var p = new Parameter<double>("w", Tensor<double>.FromDoubles([2.0], 1));
        var g = Tensor<double>.FromDoubles([1.0], 1);
        new Sgd<double>([p], 0.1, weightDecay: 0.5).Step([g]);
        Assert.Equal(1.0, g[0]);
        Close.Assert(2 - 0.1 * (1 + 0.5 * 2), p.Value[0], 1e-15);
    }

    [Fact]
    public void Schedules_FollowTheirFormulas()
    {
        // Warm-up 2 of 10 steps, then cosine over the remaining 8 (PyTorch's CosineAnnealingLR with T_max = 8).
        var cosine = new LearningRateSchedule("cosine", 0.4, TotalSteps: 10, WarmupSteps: 2);
        cosine.Validate();
        Close.Assert(0.2, cosine.At(0), 1e-15);
        Close.Assert(0.4, cosine.At(1), 1e-15);
        Close.Assert(0.4, cosine.At(2), 1e-15);
        Close.Assert(0.4 * 0.5 * (1 + Math.Cos(Math.PI * 3 / 8)), cosine.At(5), 1e-15);
        Assert.True(cosine.At(9) > 0 && cosine.At(9) < cosine.At(8));
        var step = new LearningRateSchedule("step", 1.0, TotalSteps: 100, StepSize: 30, Gamma: 0.1);
        Close.Assert(1.0, step.At(29), 1e-15);
        Close.Assert(0.1, step.At(30), 1e-15);
        Close.Assert(0.01, step.At(61), 1e-15);
        Assert.Equal(0.3, new LearningRateSchedule("constant", 0.3, 5).At(4));
        Assert.Throws<ArgumentException>(() => new LearningRateSchedule("linear", 0.3, 5).Validate());
        Assert.ThrowsAny<ArgumentException>(() => new LearningRateSchedule("cosine", 0.3, 5, WarmupSteps: 5).Validate());
    }
}
