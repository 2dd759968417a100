using Noether.Experiments;

namespace Noether.Tests.Experiments;

public class CnnTrainingTests
{
    // Issue 2 acceptance: Adam lr 1e-3, batch 128 reaches ≥ 83% Fashion-MNIST test accuracy after 1 epoch and
    // ≥ 88% after 5. Real data, full splits. PyTorch 1.13 with the same model, initialisation and optimiser (README,
    // "Train the paper's CNN"), seeds 0/1/2: 82.25/84.27/84.87% after 1 epoch (mean 83.80%) and 88.11/88.03/88.47% after 5
    // (mean 88.20%). One seed is a noisy estimate (those spreads are 2.6 and 0.4 points), so the criterion is the
    // mean over seeds 0, 1 and 2, as for PyTorch.
    // Issue 5 acceptance: with the default settings (10 epochs, the authors' count; seed 0) the trained CNN reaches
    // ≥ 88%. That run is also seed 0 of the issue-2 criterion above, read after its 1st and 5th epochs.
    [Fact]
    public void SpecCnn_OnFashionMnist_ReachesTheIssueAccuracies()
    {
        var defaults = new CnnTrainingSettings();
        Assert.Equal((10, 0), (defaults.Epochs, defaults.Seed));
        var runs = new[] { CnnTraining.Run(defaults) }
            .Concat(new[] { 1, 2 }.Select(seed => CnnTraining.Run(new CnnTrainingSettings(Epochs: 5, Seed: seed)))).ToArray();
        Assert.All(runs, r => Assert.Equal((60000, 10000), (r.TrainCount, r.TestCount)));
        double afterOne = runs.Average(r => r.Epochs[0].TestAccuracy), afterFive = runs.Average(r => r.Epochs[4].TestAccuracy);
        string detail = string.Join("; ", runs.Select(r => $"{r.Epochs[0].TestAccuracy:P2} → {r.Epochs[4].TestAccuracy:P2}"));
        Assert.True(afterOne >= 0.83, $"mean after 1 epoch {afterOne:P2} ({detail})");
        Assert.True(afterFive >= 0.88, $"mean after 5 epochs {afterFive:P2} ({detail})");
        double final = runs[0].Epochs[^1].TestAccuracy;
        Assert.True(final >= 0.88, $"default settings (10 epochs, seed 0): {final:P2}");
    }
}
