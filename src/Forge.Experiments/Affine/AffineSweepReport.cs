using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Forge.Experiments.Plotting;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;

namespace Forge.Experiments.Affine;

/// <summary>The headline numbers of one analysed affine run, read from its config.json and analysis.json.</summary>
public sealed record AffineRunSummary(string Folder, string Setting, ulong Seed, double WorstRatioFrom2, double[] RatioByPosition,
    IReadOnlyList<string> CopyHeads, IReadOnlyList<string> NegativeSimilarityHeads, IReadOnlyDictionary<string, string> Evidence,
    string LayerOne, double LlcMean, double LlcStd, bool LlcDiverged)
{
    /// <summary>For each named negative-similarity head: the pooled ΔMSE (positions ≥ 2) when it is zero-ablated, on sequences with a &gt; 0 and with a &lt; 0.</summary>
    public IReadOnlyDictionary<string, (double Positive, double Negative)> NegativeHeadAblations { get; init; } = new Dictionary<string, (double, double)>();

    /// <summary>The run in <paramref name="folder"/>; a file that cannot be read is an <see cref="InvalidDataException"/>.</summary>
    public static AffineRunSummary Read(string folder)
    {
        try
        {
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, RunFolder.ConfigFileName)))!.AsObject();
            var analysis = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, RunFolder.AnalysisFileName)))!.AsObject();
            string a = config["a"] is JsonArray range ? $"a ∈ [{Text(range[0])}, {Text(range[1])}]" : "a ∈ ?";
            var negative = Names(analysis["learned_negative_similarity_heads"] ?? analysis["negative_similarity_heads"]);
            var ablations = new Dictionary<string, (double, double)>();
            foreach (var head in negative)
                if (analysis["ablations"]?["targets"]?[head]?["zero"] is JsonObject zero)
                    ablations[head] = (Number(zero["a_pos"]?["pooled_delta_mse"]), Number(zero["a_neg"]?["pooled_delta_mse"]));
            return new AffineRunSummary(folder, a, config["seed"]?.GetValue<ulong>() ?? 0,
                Number(analysis["worst_ratio_to_copy_last_from_2"]),
                (analysis["ratio_to_copy_last_by_position"] as JsonArray ?? []).Select(Number).ToArray(),
                Names(analysis["copy_heads"]), Names(analysis["learned_negative_similarity_heads"] ?? analysis["negative_similarity_heads"]),
                (analysis["head_evidence"] as JsonObject ?? []).ToDictionary(p => p.Key, p => p.Value?.GetValue<string>() ?? ""),
                analysis["layer1_finding"]?.GetValue<string>() ?? "", Number(analysis["llc_mean"]), Number(analysis["llc_std"]),
                analysis["llc_diverged"]?.GetValue<bool>() ?? false) { NegativeHeadAblations = ablations };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or IOException or FormatException)
        {
            throw new InvalidDataException($"cannot read the affine run in '{folder}': {e.Message}", e);
        }
    }

    static string Text(JsonNode? node) => Number(node).ToString("R", CultureInfo.InvariantCulture);

    static IReadOnlyList<string> Names(JsonNode? node) => (node as JsonArray ?? []).Select(n => n!.GetValue<string>()).ToList();

    static double Number(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue(out double d) => d,
        JsonValue v when v.TryGetValue(out string? s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) => parsed,
        _ => double.NaN,
    };
}

/// <summary>
/// The affine sweep report: every analysed run found under some folders — per seed the error against
/// copy-last, the copy heads of layer 0 and the negative-similarity heads of layer 2 with their evidence,
/// what layer 1 does, the LLC — the acceptance numbers (the median over seeds of the model / copy-last
/// ratio per position), and the paper's claims with verdicts and seed counts.
/// </summary>
public static class AffineSweepReport
{
    public const string FileName = "sweep-report.md";

    /// <summary>A claim about the heads holds when this share of seeds shows it [ours].</summary>
    public const double SupportedShare = 0.8;

    public static string Write(IReadOnlyList<string> paths, string outDir, TextWriter output)
    {
        var (runs, unreadable) = RunSearch.ReadAll(paths, "affine", AffineRunSummary.Read);
        output.WriteLine($"{runs.Count} analysed affine runs" + (unreadable.Count > 0 ? $"; {unreadable.Count} unfinished or unreadable left out" : ""));
        outDir = Path.GetFullPath(outDir);
        string figures = Path.Combine(outDir, "figures");
        Directory.CreateDirectory(figures);

        var report = new ReportBuilder(outDir).Heading("Affine sweep", 1)
            .Paragraph($"{runs.Count} analysed affine runs, found under {RunSearch.Describe(paths, outDir)}." +
                       (unreadable.Count == 0 ? "" : $" Left out (unfinished or unreadable): {unreadable.Count}."));
        foreach (var setting in runs.GroupBy(r => r.Setting).OrderBy(g => g.Key, StringComparer.Ordinal))
            SettingSection(report, setting.Key, setting.OrderBy(r => r.Seed).ToList(), figures);
        var main = runs.Where(r => r.Setting == "a ∈ [-1, 1]").OrderBy(r => r.Seed).ToList();
        report.Heading($"The paper's claims: verdicts over the {main.Count} seeds of the default recipe").Claims(Claims(main));
        string path = Path.Combine(outDir, FileName);
        Forge.Models.Checkpoints.AtomicFile.WriteAllText(path, report.ToString());
        return path;
    }

    static void SettingSection(ReportBuilder report, string setting, IReadOnlyList<AffineRunSummary> runs, string figures)
    {
        report.Heading($"{setting}: {runs.Count} seeds")
            .Table(["seed", "worst model / copy-last from position 2", "copy heads (layer 0)", "learned negative-similarity heads (layer 2; not passing at initialisation)", "layer 1", "LLC"],
                runs.Select(r => (IReadOnlyList<object?>)
                [
                    r.Seed, Percent(r.WorstRatioFrom2), HeadsWithEvidence(r, r.CopyHeads), HeadsWithEvidence(r, r.NegativeSimilarityHeads), r.LayerOne,
                    r.LlcDiverged ? "diverged" : $"{F(r.LlcMean, 1)} ± {F(r.LlcStd, 1)}",
                ]));
        var negativeAblations = runs.SelectMany(r => r.NegativeHeadAblations.Select(p => (r.Seed, Head: p.Key, p.Value.Positive, p.Value.Negative))).ToList();
        if (negativeAblations.Count > 0)
            report.Paragraph("Zero-ablating each learned negative-similarity head of layer 2: the rise of the test MSE (positions ≥ 2) by sign of a.")
                .Table(["seed", "head", "ΔMSE, a > 0", "ΔMSE, a < 0", "hurts a < 0 more"], negativeAblations.Select(x => (IReadOnlyList<object?>)
                    [x.Seed, x.Head, E(x.Positive), E(x.Negative), x.Negative > x.Positive ? "yes" : "no"]));
        int positions = runs.Min(r => r.RatioByPosition.Length);
        if (positions == 0) return;
        var median = Enumerable.Range(0, positions).Select(n => SweepStats.Median(runs.Select(r => r.RatioByPosition[n]))).ToArray();
        report.Paragraph($"Model / copy-last test MSE per position, median over {runs.Count} seeds (the bar: ≤ {AffineReport.LearnedRatio:P0} from position 2 on):")
            .Table(["position n", .. Enumerable.Range(0, positions).Select(n => n.ToString(CultureInfo.InvariantCulture))],
                [["median ratio", .. median.Select(v => (object?)Percent(v))], ["worst seed", .. Enumerable.Range(0, positions).Select(n => (object?)Percent(runs.Max(r => r.RatioByPosition[n])))]]);
        string name = "sweep_ratio_" + new string(setting.Where(char.IsAsciiLetterOrDigit).ToArray()) + ".png";
        string path = Path.Combine(figures, name);
        var x = Enumerable.Range(0, positions).Select(n => (double)n).ToArray();
        Figures.Lines(path, runs.Select(r => new Series($"seed {r.Seed}", x, r.RatioByPosition[..positions])).Append(new Series("median", x, median)).ToList(),
            $"Model / copy-last test MSE per position ({setting})", "position n", "ratio", logY: true);
        report.Figure(path, $"Model / copy-last MSE per position, every seed ({setting})");
    }

    static string HeadsWithEvidence(AffineRunSummary run, IReadOnlyList<string> heads) =>
        heads.Count == 0 ? "none" : string.Join("; ", heads.Select(h => run.Evidence.TryGetValue(h, out var why) && why.Length > 0 ? $"{h} ({why})" : h));

    static IEnumerable<ClaimVerdict> Claims(IReadOnlyList<AffineRunSummary> runs)
    {
        int n = runs.Count;
        if (n == 0)
        {
            yield return new("1–3. The paper's claims", Verdict.NotTested, "no analysed run of the default recipe (a ∈ [−1, 1])");
            yield break;
        }
        int positions = runs.Min(r => r.RatioByPosition.Length);
        double worstMedian = Enumerable.Range(2, Math.Max(0, positions - 2)).Select(p => SweepStats.Median(runs.Select(r => r.RatioByPosition[p]))).DefaultIfEmpty(double.NaN).Max();
        yield return new("1. A 3-layer GPT-style transformer learns affine recurrences in context",
            worstMedian <= AffineReport.LearnedRatio ? Verdict.Supported : Verdict.NotSupported,
            $"median over **{n} seeds** of model / copy-last test MSE: at most {Percent(worstMedian)} at any position from 2 on (bar {AffineReport.LearnedRatio:P0})");
        yield return HeadClaim("2. Layer 0 forms a first estimate by copying", runs, r => r.CopyHeads.Count > 0, "have ≥ 1 copy head in layer 0");
        var claim3 = HeadClaim("3. Layer 2 refines it with negative-similarity heads", runs, r => r.NegativeSimilarityHeads.Count > 0, "have ≥ 1 learned negative-similarity head in layer 2 (passing the rule after training, not at initialisation)");
        var ablated = runs.SelectMany(r => r.NegativeHeadAblations.Values).ToList();
        yield return ablated.Count == 0 ? claim3 : claim3 with
        {
            Evidence = claim3.Evidence + $"; zero-ablating these {ablated.Count} heads raises the MSE more on sequences with a < 0 than with a > 0 in " +
                       $"{ablated.Count(x => x.Negative > x.Positive)} of them (the paper's suggested reason — attending to dissimilar terms helps when a < 0 flips the correction — predicts all)",
        };
        yield return new("4. The mechanism is analysed theoretically", Verdict.NotTested, "a theory is not something a replication run can test");
    }

    static ClaimVerdict HeadClaim(string claim, IReadOnlyList<AffineRunSummary> runs, Func<AffineRunSummary, bool> holds, string what)
    {
        int count = runs.Count(holds), n = runs.Count;
        var verdict = count >= SupportedShare * n && n >= 3 ? Verdict.Supported : count > 0 ? Verdict.PartlySupported : n >= 3 ? Verdict.NotSupported : Verdict.Inconclusive;
        return new(claim, verdict, $"{count} of **{n} seeds** {what} (rules in each run's report) [ours: supported if ≥ {SupportedShare:P0} of ≥ 3 seeds, partly if any]");
    }

    static string Percent(double v) => double.IsFinite(v) ? (v * 100).ToString(v < 0.001 ? "F4" : "F2", CultureInfo.InvariantCulture) + " %" : "–";
    static string E(double v) => double.IsFinite(v) ? v.ToString("0.000e0", CultureInfo.InvariantCulture) : "–";
    static string F(double v, int digits) => double.IsFinite(v) ? v.ToString("F" + digits, CultureInfo.InvariantCulture) : "–";
}
