namespace Noether.Cli.Commands;

/// <summary>
/// <c>noether merge SHARD_DIR... --out DIR</c>: joins the outputs of a sweep run as <c>--shard 1/n</c> … <c>n/n</c>
/// into exactly the output of the unsharded run. It checks that the folders belong together (one command, the same
/// settings apart from the shard, every shard 1..n exactly once), rebuilds the whole result from the shards'
/// per-item results (shard.json) and hands it to the command's own writer (<see cref="ShardMerge"/>), which writes the CSVs, summary.json and
/// figures as an unsharded run would; each per-item CSV is then checked to equal the shards' CSVs concatenated in
/// grid order.
/// </summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var dirs = new Argument<string[]>("shard-dirs")
        {
            Description = "The output folders of the shards (each written by a sweep command with --shard i/n), in any order.",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = CommonOptions.Out("results/merged");
        var force = CommonOptions.Force();
        var command = new Command("merge", "Join the outputs of a sweep run in shards (--shard i/n) into the output of the whole sweep: CSVs, summary.json and figures, equal to an unsharded run.")
        {
            dirs, output, force,
        };
        CliAction.Set(command, (parse, token) =>
        {
            var shards = ShardMerge.Load(parse.GetValue(dirs)!);
            string requested = Path.GetFullPath(parse.GetValue(output)!);
            foreach (var (dir, _) in shards)
                if (string.Equals(Path.TrimEndingDirectorySeparator(dir), Path.TrimEndingDirectorySeparator(requested), StringComparison.Ordinal))
                    throw Errors.Argument("--out", $"merge: --out {requested} is one of the shard folders; choose another folder");
            return Task.FromResult(OutputFolder.Run(requested, parse.GetValue(force), token, outDir =>
            {
                token.ThrowIfCancellationRequested();
                ShardMerge.Write(outDir, shards);
                return ExitCodes.Ok;
            }));
        });
        return command;
    }
}
