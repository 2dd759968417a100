using Noether.Nn;
using Noether.Symmetry;

namespace Noether.Experiments;

/// <summary>The groups whose orbits the orbit table measures.</summary>
public enum OrbitGroup
{
    /// <summary>GL_h (linear layers), eq. 20.</summary>
    GeneralLinear,
    /// <summary>Positive scaling (homogeneous σ), eq. 21.</summary>
    PositiveScaling,
    /// <summary>O(h) (radial σ), eq. 22.</summary>
    Orthogonal,
}

/// <summary>Settings of the orbit-dimension table (B.6, eqs. 20–22).</summary>
public sealed record OrbitTableSettings
{
    /// <summary>(m, h, n) shapes, including h &gt; max(m, n) where the paper's eqs. 21–22 fail.</summary>
    public IReadOnlyList<LayerShape> Shapes { get; init; } =
        [new(3, 2, 4), new(4, 4, 4), new(6, 3, 1), new(5, 6, 2), new(2, 7, 3), new(3, 9, 2), new(1, 6, 1), new(4, 20, 3), new(10, 50, 5)];

    /// <summary>The groups.</summary>
    public IReadOnlyList<OrbitGroup> Groups { get; init; } = [OrbitGroup.GeneralLinear, OrbitGroup.PositiveScaling, OrbitGroup.Orthogonal];

    /// <summary>Rank cut relative to the largest singular value.</summary>
    public double RelativeTolerance { get; init; } = OrbitDimension.DefaultTolerance;

    /// <summary>Seed of the generic (Gaussian) θ at each shape.</summary>
    public int Seed { get; init; }

    /// <summary>Run only this part of the grid (<see cref="OrbitTableExperiment.GridSize"/>); null: all of it.</summary>
    public Shard? Shard { get; init; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Shapes);
        ArgumentNullException.ThrowIfNull(Groups);
        for (int i = 0; i < Shapes.Count; i++) Shapes[i].Validate($"Shapes[{i}]");
        if (!(RelativeTolerance > 0 && RelativeTolerance < 1)) throw Errors.OutOfRange(nameof(RelativeTolerance), RelativeTolerance, "a number in (0, 1)");
    }
}

/// <summary>One row: the measured orbit dimension next to the closed forms.</summary>
/// <param name="Shape">(m, h, n).</param>
/// <param name="Group">The group.</param>
/// <param name="AlgebraDimension">dim 𝔤.</param>
/// <param name="Measured">Numerical rank of M ↦ M̄_θ.</param>
/// <param name="Corrected">The SPEC's closed form.</param>
/// <param name="Paper">The paper's eq. 20, 21 or 22.</param>
/// <param name="MatchesCorrected">Measured = Corrected.</param>
/// <param name="PaperDiffers">Paper ≠ Corrected (then h &gt; max(m, n)).</param>
/// <param name="SmallestKept">Smallest singular value counted in the rank.</param>
/// <param name="LargestDropped">Largest singular value counted as zero (0 when none).</param>
/// <param name="Gap">SmallestKept / LargestDropped.</param>
public sealed record OrbitTableRow(LayerShape Shape, OrbitGroup Group, int AlgebraDimension, int Measured, int Corrected, int Paper,
    bool MatchesCorrected, bool PaperDiffers, double SmallestKept, double LargestDropped, double Gap);

/// <summary>The orbit table.</summary>
/// <param name="Settings">The settings it ran with.</param>
/// <param name="Rows">One row per (shape, group) (the shard's, in grid order, when sharded).</param>
public sealed record OrbitTableResult(OrbitTableSettings Settings, IReadOnlyList<OrbitTableRow> Rows)
{
    /// <summary>Rows whose measured rank equals the corrected closed form.</summary>
    public int MatchingCorrected() => Rows.Count(r => r.MatchesCorrected);

    /// <summary>Rows where the paper's printed formula differs from the corrected one.</summary>
    public int PaperDiffering() => Rows.Count(r => r.PaperDiffers);

    /// <summary>Rows where the printed formula differs and h &gt; max(m, n).</summary>
    public int PaperDifferingBeyondMaxMN() => Rows.Count(r => r.PaperDiffers && r.Shape.H > Math.Max(r.Shape.M, r.Shape.N));

    /// <summary>
    /// Per group (in first-seen order): its rows, how many match the corrected form, how many the printed formula gets wrong,
    /// and the wrong row with the largest h as an example (null when none).
    /// </summary>
    public (OrbitGroup Group, OrbitTableRow[] Rows, int Agree, int PaperWrong, OrbitTableRow? Example)[] ByGroup() =>
        Rows.GroupBy(r => r.Group).Select(g => g.ToArray())
            .Select(rows => (rows[0].Group, rows, rows.Count(r => r.MatchesCorrected), rows.Count(r => r.PaperDiffers), rows.Where(r => r.PaperDiffers).MaxBy(r => r.Shape.H)))
            .ToArray();
}

/// <summary>Orbit dimensions measured by SVD at generic θ, against the corrected closed forms and the paper's eqs. 20–22.</summary>
public static class OrbitTableExperiment
{
    /// <summary>The number of grid items: one per (shape, group), shape-major (every group of the first shape, then the next).</summary>
    public static int GridSize(OrbitTableSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Shapes.Count * settings.Groups.Count;
    }

    /// <summary>Measures every (shape, group) (those of <see cref="OrbitTableSettings.Shard"/> when set). Pure: the result depends only on the settings.</summary>
    public static OrbitTableResult Run(OrbitTableSettings settings, IProgress<ExperimentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var rows = new List<OrbitTableRow>();
        var items = Shard.ItemsOf(settings.Shard, GridSize(settings));
        long total = items.Length, done = 0;
        for (int s = 0; s < settings.Shapes.Count; s++)
        {
            var shape = settings.Shapes[s];
            if (!Enumerable.Range(s * settings.Groups.Count, settings.Groups.Count).Any(items.Contains)) continue;
            // One generic θ per shape, seeded deterministically from the settings seed and the shape index.
            var theta = TwoLayerParameters.Gaussian(new Random(unchecked(settings.Seed * 7919 + s)), shape.M, shape.H, shape.N);
            for (int g = 0; g < settings.Groups.Count; g++)
            {
                if (!items.Contains(s * settings.Groups.Count + g)) continue;
                var kind = settings.Groups[g];
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new ExperimentProgress($"{kind} {shape}", done, total));
                MatrixGroup group = kind switch
                {
                    OrbitGroup.GeneralLinear => new GeneralLinearGroup(shape.H),
                    OrbitGroup.PositiveScaling => new PositiveScalingGroup(shape.H),
                    _ => new OrthogonalGroup(shape.H),
                };
                var r = OrbitDimension.Measure(group, theta, settings.RelativeTolerance);
                int corrected = OrbitDimension.ClosedForm(group, shape.M, shape.N)!.Value;
                int paper = OrbitDimension.PaperClosedForm(group, shape.M, shape.N)!.Value;
                double kept = r.Dimension > 0 ? r.SingularValues[r.Dimension - 1] : 0;
                double dropped = r.Dimension < r.SingularValues.Length ? r.SingularValues[r.Dimension] : 0;
                rows.Add(new OrbitTableRow(shape, kind, r.AlgebraDimension, r.Dimension, corrected, paper, r.Dimension == corrected, paper != corrected, kept, dropped, r.Gap));
                done++;
            }
        }
        progress?.Report(new ExperimentProgress("done", total, total));
        return new OrbitTableResult(settings, rows);
    }

    /// <summary>
    /// The report contract: one claim per group (eqs. 20–22). Corrected when the measured rank follows SPEC's closed form and the
    /// printed formula differs in some rows; NotReproduced when the measurement disagrees with the corrected form itself.
    /// </summary>
    public static List<Claim> Claims(OrbitTableResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var claims = new List<Claim>();
        foreach (var (group, rows, agree, paperWrong, example) in result.ByGroup())
        {
            var rule = group switch
            {
                OrbitGroup.GeneralLinear => SymmetryClaims.OrbitGeneralLinear,
                OrbitGroup.PositiveScaling => SymmetryClaims.OrbitScaling,
                _ => SymmetryClaims.OrbitOrthogonal,
            };
            string measured = $"measured rank = corrected form in {agree} of {rows.Length} shapes; the printed formula differs in {paperWrong}" +
                (example is null ? "" : $" (e.g. (m, h, n) = {example.Shape}: measured {example.Measured}, paper {example.Paper})");
            claims.Add(rule.Make(rows.Select(r => new double[] { r.MatchesCorrected ? 1 : 0, r.PaperDiffers ? 1 : 0 }).ToArray(), measured,
                paperWrong > 0 ? "the printed formula is wrong whenever h > max(m, n); see the corrections" : null));
        }
        return claims;
    }
}
