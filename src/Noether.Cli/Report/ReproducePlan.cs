namespace Noether.Cli.Report;

/// <summary>
/// One step of <c>noether reproduce</c>: a sub-command and its arguments per profile. The runner adds
/// <c>--out DIR/&lt;Name&gt; --force</c>; the command must write a summary.json that follows the report contract
/// (<see cref="Claim"/>, <see cref="FigureRef"/>).
/// </summary>
/// <param name="Name">The step's name: its folder under --out and its name for <c>--only</c> (the command's name unless a command runs twice).</param>
/// <param name="Command">The sub-command, as typed after <c>noether</c>.</param>
/// <param name="Quick">Arguments for <c>--profile quick</c> (the whole plan in about 20 s on 2 cores).</param>
/// <param name="Default">Arguments for <c>--profile default</c> (the whole plan in about 3 minutes on 2 cores).</param>
/// <param name="Full">Arguments for <c>--profile full</c> (the paper's sizes).</param>
internal sealed record ReproduceStep(string Name, string Command, string[] Quick, string[] Default, string[] Full)
{
    /// <summary>A command that has its own <c>--profile quick|default|full</c>: the step passes the profile through.</summary>
    public static ReproduceStep Profiled(string command, params string[] extra) =>
        new(command, command, ["--profile", "quick", .. extra], ["--profile", "default", .. extra], ["--profile", "full", .. extra]);

    /// <summary>The arguments of this step for <paramref name="profile"/> (quick, default or full), without --out/--force.</summary>
    public string[] ArgumentsFor(string profile) => profile switch
    {
        "quick" => Quick,
        "default" => Default,
        "full" => Full,
        _ => throw Errors.Argument(nameof(profile), $"--profile: expected quick, default or full (got '{profile}')"),
    };

    /// <summary>
    /// The full command line of this step: <c>COMMAND ARGS --out OUT --force</c>. An argument <c>@STEP/FILE</c> names a file
    /// that an earlier step of the same run wrote (e.g. the CNN that <c>train</c> saved, so that <c>ensemble</c> does not train
    /// again); when that file does not exist (the step was left out with <c>--only</c>) the option and its value are dropped,
    /// and the command falls back to its own default.
    /// </summary>
    public string[] CommandLine(string profile, string outDir)
    {
        string runDir = Path.GetDirectoryName(Path.GetFullPath(outDir))!;
        var args = new List<string> { Command };
        var given = ArgumentsFor(profile);
        for (int i = 0; i < given.Length; i++)
        {
            if (i + 1 < given.Length && given[i + 1].StartsWith('@'))
            {
                string file = Path.Combine(runDir, given[i + 1][1..]);
                if (File.Exists(file)) args.AddRange([given[i], file]);
                i++;
                continue;
            }
            args.Add(given[i]);
        }
        return [.. args, "--out", outDir, "--force"];
    }
}

/// <summary>
/// What <c>noether reproduce</c> runs, in order. Adding an experiment is one line: <c>ReproduceStep.Profiled("name")</c> for a
/// command with <c>--profile</c>, or <c>new("name", "name", [quick args], [default args], [full args])</c>.
/// </summary>
internal static class ReproducePlan
{
    /// <summary>The profiles, fastest first (those of every experiment command).</summary>
    public static readonly string[] Profiles = Commands.CommonOptions.Profiles;

    /// <summary>Every step, in the order they run and appear in the report. Per-step times: docs/reproduce.md.</summary>
    public static IReadOnlyList<ReproduceStep> Steps { get; } =
    [
        new("train", "train", ["--epochs", "1"], ["--epochs", "10"], ["--epochs", "10"]),  // Appendix H CNN (the authors: 10 epochs)
        PaperSizedByDefault("drift"),                                                      // Fig. 3, eqs. 41–43
        new("xavier", "xavier", ["--draws", "200"], ["--draws", "1000"], ["--draws", "1000"]), // Figs. 4–5, eq. 47
        new("orbit", "orbit", [], [], []),                                                 // eqs. 20–22
        new("discover", "discover", [], [], []),                                           // B.2–B.5
        new("symmetry-check", "symmetry-check", [], [], []),                               // eq. 1, Prop. 5, Prop. 8, eq. 16
        // Prop. 8 with h > k under tanh (ReLU's σ(Z) is often rank-deficient at g = I): π(I, Z) is a projection (SPEC).
        new("symmetry-check-tanh", "symmetry-check", ["--activation", "tanh", "--batch-size", "3", "--no-sweep"], ["--activation", "tanh", "--batch-size", "3", "--no-sweep"], ["--activation", "tanh", "--batch-size", "3", "--no-sweep"]),
        // converge's full profile integrates the stiff radial flow at μ = 0.01 to t = 10 (about 20 minutes alone): only in full.
        ReproduceStep.Profiled("converge"),                                                // F.1 ellipse, Fig. 7 radial, Fig. 6 rate
        PaperSizedByDefault("sharpness"),                                                  // Fig. 8 and the 1-D closed form
        PaperSizedByDefault("teleport"),                                                   // Appendix G: move along the minimum to a chosen Q
        PaperSizedByDefault("valley"),                                                     // the flat valley: group paths vs random directions
        // Figs. 9–10 on the CNN that the train step saved (no second training run). Fig. 9 with the authors' 200 members
        // by default; Fig. 10's 200-member adaptive attacks (about 3 minutes and 0.9 GB since the chunked heads: docs/reproduce.md) only in full.
        new("ensemble", "ensemble", ["--profile", "quick", "--weights", TrainedCnn], ["--profile", "full", "--weights", TrainedCnn], ["--profile", "full", "--weights", TrainedCnn]),
        new("attack", "attack", ["--profile", "quick", "--weights", TrainedCnn], ["--profile", "default", "--weights", TrainedCnn], ["--profile", "full", "--weights", TrainedCnn]),
    ];

    /// <summary>The CNN that the <c>train</c> step of the same run saved.</summary>
    private const string TrainedCnn = "@train/model.safetensors";

    /// <summary>A command cheap enough at the paper's sizes to run them in the default profile as well.</summary>
    private static ReproduceStep PaperSizedByDefault(string command) =>
        new(command, command, ["--profile", "quick"], ["--profile", "full"], ["--profile", "full"]);
}
