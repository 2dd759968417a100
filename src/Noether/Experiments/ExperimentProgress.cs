namespace Noether.Experiments;

/// <summary>Progress of an experiment, reported through <see cref="IProgress{T}"/> (the library never writes to the console).</summary>
/// <param name="Stage">What is running, e.g. "GD relu η=0.01".</param>
/// <param name="Completed">Units of work done so far (steps, draws, shapes …) over the whole experiment.</param>
/// <param name="Total">Units of work in the whole experiment.</param>
public sealed record ExperimentProgress(string Stage, long Completed, long Total)
{
    /// <summary>Completed / Total in [0, 1].</summary>
    public double Fraction => Total <= 0 ? 1 : Math.Clamp((double)Completed / Total, 0, 1);
}

/// <summary>(m, h, n): output, hidden and input widths of a two-layer network.</summary>
/// <param name="M">Output width m.</param>
/// <param name="H">Hidden width h.</param>
/// <param name="N">Input width n.</param>
public readonly record struct LayerShape(int M, int H, int N)
{
    /// <summary>"(m, h, n)".</summary>
    public override string ToString() => $"({M}, {H}, {N})";

    internal void Validate(string name)
    {
        if (M <= 0 || H <= 0 || N <= 0) throw Errors.ArgumentOutOfRange(name, this, $"{name} = {this}: every width must be positive");
    }
}
