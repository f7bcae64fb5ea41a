using System.CommandLine;
using System.Globalization;
using Forge.Experiments.Cli;
using Forge.Experiments.Plotting;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;
using Forge.Models.Interpretability;

namespace Forge.Experiments.Framework;

/// <summary>
/// <c>llc-calibrate</c>: estimates the LLC of one checkpoint of a run (of any experiment) for a grid of SGLD step
/// sizes ε and localisations γ, and writes llc-calibration.md with every setting's loss traces. A good
/// setting's traces rise from L(w*) and level off, no chain diverges, and the estimate is positive and
/// stable across chains; pick one and fix it (the recipe's llc_* settings) for all checkpoints and runs.
/// </summary>
public sealed class LlcCalibrationCommand : ICliCommand
{
    public Command Create()
    {
        var run = new Option<string>("--run") { Description = "The run folder (of any experiment).", HelpName = "DIR", Required = true };
        var step = new Option<long?>("--step") { Description = "Checkpoint step (default: the latest).", HelpName = "N" };
        var epsilons = new Option<string>("--epsilons") { Description = "Comma-separated SGLD step sizes.", DefaultValueFactory = _ => "1e-5,3e-5,1e-4,3e-4" };
        var gammas = new Option<string>("--gammas") { Description = "Comma-separated localisation strengths.", DefaultValueFactory = _ => "100,1000" };
        var nBetas = new Option<string?>("--nbetas") { Description = "Comma-separated nβ values (default: the run's)." };
        var chains = OptionFactory.Int("--chains", "Chains per setting (default: the run's).", 0, 0);
        var draws = OptionFactory.Int("--draws", "Draws per chain (default: the run's).", 0, 0);
        var threads = OptionFactory.Int("--threads", "Kernel threads, caller included.", Environment.ProcessorCount, 1, 1024);
        var command = new Command("llc-calibrate", "Compare LLC estimates and SGLD loss traces over a grid of ε, γ and nβ on one checkpoint (llc-calibration.md).")
        {
            run, step, epsilons, gammas, nBetas, chains, draws, threads,
        };
        command.SetAction(parse =>
        {
            Kernels.Threading.ForkJoin.Threads = parse.GetValue(threads);
            var output = parse.InvocationConfiguration.Output;
            var (experiment, folder) = RunFolder.OpenExisting(parse.GetValue(run)!);
            using var held = folder;
            var training = experiment.Load(folder, parse.GetValue(step));
            using var denormals = DenormalMode.Apply(training.Recipe, output);   // the run's own arithmetic
            var settings = training.Recipe.Llc(training.Seed);
            if (parse.GetValue(chains) > 0) settings = settings with { Chains = parse.GetValue(chains) };
            if (parse.GetValue(draws) > 0) settings = settings with { Draws = parse.GetValue(draws) };
            double?[] betas = parse.GetValue(nBetas) is string list ? Parse(list, "--nbetas").Select(b => (double?)b).ToArray() : [settings.NBeta];
            long checkpoint = parse.GetValue(step) ?? folder.LatestCheckpointStep()!.Value;
            Calibrate(folder, checkpoint, training, settings, Parse(parse.GetValue(epsilons)!, "--epsilons"), Parse(parse.GetValue(gammas)!, "--gammas"), betas, output);
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

    static void Calibrate(RunFolder folder, long checkpoint, ExperimentRun training, LlcSettings baseSettings, double[] epsilons, double[] gammas, double?[] nBetas, TextWriter output)
    {
        double trainLoss = training.TrainLoss();
        double chance = training.ChanceLoss ?? double.NaN;
        var report = new ReportBuilder(folder.Root).Heading("LLC calibration", 1)
            .Paragraph($"Checkpoint {checkpoint} of this run; L(w*) = {trainLoss:F5} on the full training set; " +
                       $"{baseSettings.Chains} chains × ({baseSettings.BurnIn} burn-in + {baseSettings.Draws} draws), batch {baseSettings.BatchSize}, nβ = {baseSettings.ResolvedNBeta:F1}.");
        var rows = new List<IReadOnlyList<object?>>();
        foreach (double? nBeta in nBetas)
        foreach (double gamma in gammas)
            foreach (double epsilon in epsilons)
            {
                var settings = baseSettings with { Epsilon = epsilon, Gamma = gamma, NBeta = nBeta };
                var llc = training.EstimateLlc(settings, trainLoss);
                string name = $"llc_calibration_eps{epsilon:0.#####e0}_gamma{gamma:0}_nbeta{settings.ResolvedNBeta:0}.png".Replace("+", "");
                string path = folder.FigurePath(name);
                Figures.Lines(path, llc.LossTraces.Select((t, c) => Series.OverIndex($"chain {c}", t)).ToList(),
                    $"ε = {epsilon:G3}, γ = {gamma:G3}, nβ = {settings.ResolvedNBeta:G3}: λ̂ = {llc.Mean:F1} ± {llc.Std:F1}", "SGLD step", "minibatch loss");
                double plateau = Plateau(llc.LossTraces, settings.BurnIn);
                double drawLoss = llc.LossTraces.Average(t => t.Skip(settings.BurnIn).Average());
                double rise = (drawLoss - trainLoss) / (chance - trainLoss);
                rows.Add([epsilon.ToString("G3", CultureInfo.InvariantCulture), gamma.ToString("G3", CultureInfo.InvariantCulture),
                    settings.ResolvedNBeta.ToString("G4", CultureInfo.InvariantCulture), $"{llc.Mean:F1} ± {llc.Std:F1}", llc.Diverged ? "yes" : "no",
                    plateau.ToString("F3", CultureInfo.InvariantCulture), drawLoss.ToString("F4", CultureInfo.InvariantCulture), rise.ToString("P1", CultureInfo.InvariantCulture)]);
                report.Figure(path, $"ε = {epsilon:G3}, γ = {gamma:G3}, nβ = {settings.ResolvedNBeta:G3}");
                output.WriteLine($"ε {epsilon,-8:G3} γ {gamma,-7:G3} nβ {settings.ResolvedNBeta,-7:G4} λ̂ {llc.Mean,9:F1} ± {llc.Std,-7:F1} diverged {llc.Diverged}, drift {plateau:F3}, draw loss {drawLoss:F4} ({rise:P1} of the way to chance)");
            }
        report.Heading("Summary").Table(["ε", "γ", "nβ", "λ̂ (mean ± std)", "diverged", "drift", "mean draw loss", "rise toward chance"], rows)
            .Paragraph("drift = (mean loss of the last quarter of the draws − mean of the first quarter) / (mean draw loss − L(w*)): near 0 when the traces have levelled off. " +
                       $"rise toward chance = (mean draw loss − L(w*)) / (chance-level loss {(double.IsNaN(chance) ? "(none for this experiment)" : chance.ToString("F4", CultureInfo.InvariantCulture))} − L(w*)): " +
                       "a chain that climbs to chance-level loss has left the basin, and λ̂ then only measures nβ·(chance − L(w*)), not the basin's geometry.");
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
