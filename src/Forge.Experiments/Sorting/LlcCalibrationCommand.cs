using System.CommandLine;
using System.Globalization;
using Forge.Experiments.Cli;
using Forge.Experiments.Plotting;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;
using Forge.Models.Interpretability;
using Forge.Models.Training;

namespace Forge.Experiments.Sorting;

/// <summary>
/// <c>llc-calibrate</c>: estimates the LLC of one checkpoint of a sorting run for a grid of SGLD step
/// sizes ε and localisations γ, and writes llc-calibration.md with every setting's loss traces. A good
/// setting's traces rise from L(w*) and level off, no chain diverges, and the estimate is positive and
/// stable across chains; pick one and fix it (the recipe's llc_* settings) for all checkpoints and runs.
/// </summary>
public sealed class LlcCalibrationCommand : ICliCommand
{
    public Command Create()
    {
        var run = new Option<string>("--run") { Description = "The sorting run folder.", HelpName = "DIR", Required = true };
        var step = new Option<long?>("--step") { Description = "Checkpoint step (default: the latest).", HelpName = "N" };
        var epsilons = new Option<string>("--epsilons") { Description = "Comma-separated SGLD step sizes.", DefaultValueFactory = _ => "1e-5,3e-5,1e-4,3e-4" };
        var gammas = new Option<string>("--gammas") { Description = "Comma-separated localisation strengths.", DefaultValueFactory = _ => "100,1000" };
        var command = new Command("llc-calibrate", "Compare LLC estimates and SGLD loss traces over a grid of ε and γ on one checkpoint (llc-calibration.md).")
        {
            run, step, epsilons, gammas,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var folder = RunFolder.Open("sorting", parse.GetValue(run)!, resume: true);
            var training = SortingRunFolder.Load(folder, parse.GetValue(step));
            Calibrate(folder, training, Parse(parse.GetValue(epsilons)!, "--epsilons"), Parse(parse.GetValue(gammas)!, "--gammas"), output);
            return ExitCodes.Success;
        });
        return command;
    }

    static double[] Parse(string list, string option)
    {
        var values = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var parsed = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
            if (!double.TryParse(values[i], NumberStyles.Float, CultureInfo.InvariantCulture, out parsed[i]) || !(parsed[i] > 0))
                throw new UsageException($"invalid value '{values[i]}' for {option}: expected positive numbers separated by commas");
        return parsed.Length > 0 ? parsed : throw new UsageException($"{option} needs at least one value");
    }

    static void Calibrate(RunFolder folder, SortingTraining training, double[] epsilons, double[] gammas, TextWriter output)
    {
        double trainLoss = new TokenEvaluator<float>(training.Model, training.Train, 1024).Evaluate().Loss;
        var baseSettings = training.Recipe.Llc(training.Seed);
        var report = new ReportBuilder(folder.Root).Heading("LLC calibration", 1)
            .Paragraph($"Checkpoint {folder.LatestCheckpointStep()} of this run; L(w*) = {trainLoss:F5} on the full training set; " +
                       $"{baseSettings.Chains} chains × ({baseSettings.BurnIn} burn-in + {baseSettings.Draws} draws), batch {baseSettings.BatchSize}, nβ = {baseSettings.ResolvedNBeta:F1}.");
        var rows = new List<IReadOnlyList<object?>>();
        foreach (double gamma in gammas)
            foreach (double epsilon in epsilons)
            {
                var settings = baseSettings with { Epsilon = epsilon, Gamma = gamma };
                var llc = LocalLearningCoefficient.Estimate(training.Model, training.Train, settings, trainLoss);
                string name = $"llc_calibration_eps{epsilon:0.#####e0}_gamma{gamma:0}.png".Replace("+", "");
                string path = folder.FigurePath(name);
                Figures.Lines(path, llc.LossTraces.Select((t, c) => Series.OverIndex($"chain {c}", t)).ToList(),
                    $"ε = {epsilon:G3}, γ = {gamma:G3}: λ̂ = {llc.Mean:F1} ± {llc.Std:F1}", "SGLD step", "minibatch loss");
                double plateau = Plateau(llc.LossTraces, settings.BurnIn);
                rows.Add([epsilon.ToString("G3", CultureInfo.InvariantCulture), gamma.ToString("G3", CultureInfo.InvariantCulture),
                    $"{llc.Mean:F1} ± {llc.Std:F1}", llc.Diverged ? "yes" : "no", plateau.ToString("F3", CultureInfo.InvariantCulture)]);
                report.Figure(path, $"ε = {epsilon:G3}, γ = {gamma:G3}");
                output.WriteLine($"ε {epsilon,-8:G3} γ {gamma,-6:G3} λ̂ {llc.Mean,8:F1} ± {llc.Std,-6:F1} diverged {llc.Diverged}, drift {plateau:F3}");
            }
        report.Heading("Summary").Table(["ε", "γ", "λ̂ (mean ± std)", "diverged", "drift"], rows)
            .Paragraph("drift = (mean loss of the last quarter of the draws − mean of the first quarter) / (mean draw loss − L(w*)): near 0 when the traces have levelled off.");
        Forge.Models.Checkpoints.AtomicFile.WriteAllText(Path.Combine(folder.Root, "llc-calibration.md"), report.ToString());
        output.WriteLine($"written: {Path.Combine(folder.Root, "llc-calibration.md")}");
    }

    /// <summary>Relative change of the draw losses between the first and last quarter (0 = levelled off).</summary>
    static double Plateau(double[][] traces, int burnIn)
    {
        double first = 0, last = 0, all = 0, initial = traces.Average(t => t[0]);
        foreach (var t in traces)
        {
            var draws = t.Skip(burnIn).ToArray();
            int q = Math.Max(1, draws.Length / 4);
            first += draws.Take(q).Average();
            last += draws.Skip(draws.Length - q).Average();
            all += draws.Average();
        }
        return (last - first) / Math.Max(1e-12, all - initial * traces.Length);
    }
}
