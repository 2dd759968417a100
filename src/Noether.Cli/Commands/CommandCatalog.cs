namespace Noether.Cli.Commands;

/// <summary>Every sub-command of <c>noether</c>, in the order <c>--help</c> lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All(Func<Command> buildRoot)
    {
        yield return InfoCommand.Create();
        yield return TrainCommand.Create();
        yield return DriftCommand.Create();
        yield return XavierCommand.Create();
        yield return OrbitCommand.Create();
        yield return DiscoverCommand.Create();
        yield return LawsCommand.Create();
        yield return SymmetryCheckCommand.Create();
        yield return SymmetriesCommand.Create();
        yield return ConvergeCommand.Create();
        yield return SharpnessCommand.Create();
        yield return TeleportCommand.Create();
        yield return TeleportProtocolCommand.Create();
        yield return ValleyCommand.Create();
        yield return EnsembleCommand.Create();
        yield return AttackCommand.Create();
        yield return AnalyzeCommand.Create();
        yield return ModelCommand.Create();
        yield return ReproduceCommand.Create(buildRoot);
        yield return CurvatureCommand.Create();
        yield return MergeCommand.Create();
    }
}
