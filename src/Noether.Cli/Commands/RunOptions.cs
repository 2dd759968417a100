namespace Noether.Cli.Commands;

/// <summary>
/// The options every experiment command ends with — --seed, --shard (sweeps only), --out, --force — and the command built
/// around them; the action writes into the staged --out folder (<see cref="OutputFolder"/>).
/// </summary>
internal sealed class RunOptions
{
    private RunOptions(string defaultOut, bool sharded)
    {
        Shard = sharded ? CommonOptions.Shard() : null;
        Out = CommonOptions.Out(defaultOut);
    }

    /// <summary>--seed.</summary>
    public Option<int> Seed { get; } = CommonOptions.Seed();

    /// <summary>--shard i/n, for a sweep command; null otherwise.</summary>
    public Option<Shard?>? Shard { get; }

    /// <summary>--out.</summary>
    public Option<string> Out { get; }

    /// <summary>--force.</summary>
    public Option<bool> Force { get; } = CommonOptions.Force();

    /// <summary>The options of a sweep (with --shard) writing to <paramref name="defaultOut"/> by default.</summary>
    public static RunOptions Sweep(string defaultOut) => new(defaultOut, sharded: true);

    /// <summary>The options of a command without a grid to shard.</summary>
    public static RunOptions Single(string defaultOut) => new(defaultOut, sharded: false);

    /// <summary>The command with <paramref name="options"/> and then these, in the order --help lists them.</summary>
    public Command Command(string name, string description, params Option[] options)
    {
        var command = new Command(name, description);
        foreach (var option in options) command.Options.Add(option);
        command.Options.Add(Seed);
        if (Shard is not null) command.Options.Add(Shard);
        command.Options.Add(Out);
        command.Options.Add(Force);
        return command;
    }

    /// <summary>The shard asked for, or null (always null for a command without --shard).</summary>
    public Shard? ShardOf(ParseResult parse) => Shard is null ? null : parse.GetValue(Shard);

    /// <summary>Runs <paramref name="write"/> on the staging folder of --out; --out is replaced only when it completes.</summary>
    public Task<int> Write(ParseResult parse, CancellationToken token, Func<string, int> write) =>
        Task.FromResult(OutputFolder.Run(parse.GetValue(Out), parse.GetValue(Force), token, write));
}
