using Noether.Attacks;
using Noether.Ensembles;
using ScottPlot;
using static Noether.Experiments.Format;

namespace Noether.Cli.Figures;

/// <summary>The PNG of <c>noether attack</c>.</summary>
internal static class AttackFigures
{
    /// <summary>Fig. 10: accuracy against attack strength, one panel per threat model and attack kind.</summary>
    public static void Accuracy(AttackExperimentResult result, string path)
    {
        var plots = new List<Plot>();
        var names = new[] { "single" }.Concat(result.Settings.BuilderList.Select(EnsembleOptions.Name)).ToArray();
        foreach (var threat in result.Settings.ThreatModelList)
            foreach (var kind in new[] { AttackKind.Fgsm, AttackKind.Pgd })
            {
                var attacks = result.Rows.Where(r => r.Threat == threat && r.Attack.Kind == kind).Select(r => r.Attack).Distinct().OrderBy(a => a.Epsilon).ThenBy(a => a.Steps).ToArray();
                if (attacks.Length == 0) continue;
                bool steps = result.StrengthAxis(kind) == "steps";
                var positions = attacks.Select((_, i) => (double)i).ToArray();
                var labels = attacks.Select(a => steps ? a.Steps.ToString(CultureInfo.InvariantCulture) : AttackLabels.Radius(a.Epsilon)).ToArray();
                string title = $"{AttackLabels.Kind(kind)}{(kind == AttackKind.Pgd ? $"-{attacks[^1].Steps}" : "")}, {AttackLabels.Threat(threat)}{(threat == ThreatModel.Transfer ? " (examples from the single model)" : " (gradients through each ensemble)")}";
                if (kind == AttackKind.Pgd && steps) title = $"PGD ε = {AttackLabels.Radius(attacks[0].Epsilon)}, {AttackLabels.Threat(threat)}";
                var plot = Figure.Create(title, steps ? "PGD iterations" : "attack ε", "test accuracy (%)");
                for (int m = 0; m < names.Length; m++)
                {
                    var ys = attacks.Select(a => (result.Rows.FirstOrDefault(r => r.Threat == threat && r.Attack == a && r.Model == names[m])?.Accuracy ?? double.NaN) * 100).ToArray();
                    var keep = Enumerable.Range(0, ys.Length).Where(i => double.IsFinite(ys[i])).ToArray();
                    if (keep.Length == 0) continue;
                    // A builder keeps its colour across figures whatever subset was run.
                    var color = m == 0 ? Colors.Black : Panels.Palette[(int)result.Settings.BuilderList[m - 1] % Panels.Palette.Length];
                    var line = plot.Add.Scatter(keep.Select(i => positions[i]).ToArray(), keep.Select(i => ys[i]).ToArray(), color);
                    line.LegendText = names[m];
                    line.LineWidth = m == 0 ? 3 : 2;
                    line.MarkerSize = 6;
                    if (m == 0) line.LinePattern = LinePattern.Dashed;
                }
                plot.Axes.Bottom.SetTicks(positions, labels);
                plot.ShowLegend(Edge.Right); // outside: the curves fill the panel
                plots.Add(plot);
            }
        Panels.Save(plots, Math.Min(2, plots.Count), path, 720, 430);
    }
}
