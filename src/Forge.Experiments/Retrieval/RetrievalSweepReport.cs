using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Forge.Experiments.Plotting;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;

namespace Forge.Experiments.Retrieval;

/// <summary>The headline numbers of one analysed retrieval run, read from config.json, analysis.json and (when the emergence analysis ran) development.json.</summary>
public sealed record RetrievalRunSummary(string Folder, int Layers, int Depth, string Curriculum, ulong Seed, long Steps, double Accuracy,
    IReadOnlyList<HeadEmergence>? Emergence, IReadOnlyList<(long Step, double Llc)> Llc)
{
    /// <summary>Held-out accuracy at which a number of look-ups counts as learned in the staircase [ours].</summary>
    public const double LearnedAccuracy = 0.9;

    /// <summary>
    /// The accuracy staircase, whatever the mechanism: for h = 1 … D look-ups, the first evaluated step at which
    /// held-out accuracy on h look-ups reached <see cref="LearnedAccuracy"/> (null: never), from metrics.csv.
    /// </summary>
    public IReadOnlyList<long?> LearnedAt { get; init; } = [];

    /// <summary>The heads whose zero-ablation costs at least <see cref="EssentialDrop"/> of full-depth accuracy (analysis.json's <c>ablations</c>; empty when absent).</summary>
    public IReadOnlyList<(string Head, double Accuracy)> Essential { get; init; } = [];

    /// <summary>An ablation that costs this much full-depth accuracy marks an essential head [ours].</summary>
    public const double EssentialDrop = 0.2;

    /// <summary>Seconds of the training loop (summary.json's <c>train_seconds</c>; NaN when absent) and the kernel threads it used.</summary>
    public double TrainSeconds { get; init; } = double.NaN;
    public int Threads { get; init; } = 1;

    public bool Solved => Accuracy >= RetrievalReport.SolvedAccuracy;
    public int LayersNeeded => RetrievalRecipe.LayersNeeded(Depth);
    public bool BelowBound => Layers < LayersNeeded;

    /// <summary>The run in <paramref name="folder"/>; a file that cannot be read is an <see cref="InvalidDataException"/>.</summary>
    public static RetrievalRunSummary Read(string folder)
    {
        try
        {
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, RunFolder.ConfigFileName)))!.AsObject();
            var analysis = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, RunFolder.AnalysisFileName)))!.AsObject();
            List<HeadEmergence>? emergence = null;
            var llc = new List<(long, double)>();
            string development = Path.Combine(folder, RetrievalDevelopment.DevelopmentFile);
            if (File.Exists(development))
            {
                var json = JsonNode.Parse(File.ReadAllText(development))!.AsObject();
                emergence = (json["emergence"] as JsonArray ?? []).Select(e => new HeadEmergence(e!["layer"]!.GetValue<int>(), int.Parse(e["head"]!.GetValue<string>().Split('H')[1], CultureInfo.InvariantCulture),
                    e["hop"]!.GetValue<int>(), e["final_score"]!.GetValue<double>(), e["step"]!.GetValue<long>())).ToList();
                llc = (json["llc"] as JsonArray ?? []).Select(p => (p!["step"]!.GetValue<long>(), Number(p["mean"]))).ToList();
            }
            int depth = config["depth"]!.GetValue<int>();
            return new RetrievalRunSummary(folder, config["layers"]!.GetValue<int>(), depth, config["curriculum"]!.GetValue<string>(),
                config["seed"]!.GetValue<ulong>(), config["steps"]?.GetValue<long>() ?? 0, Number(analysis["val_acc"]), emergence, llc)
            {
                LearnedAt = Staircase(Path.Combine(folder, RunFolder.MetricsFileName), depth),
                TrainSeconds = TrainSecondsOf(Path.Combine(folder, RunFolder.SummaryFileName)),
                Threads = config["threads"]?.GetValue<int>() ?? 1,
                Essential = (analysis["ablations"] as JsonArray ?? []).Select(a => (a!["head"]!.GetValue<string>(), Number(a["accuracy_by_hops"]?[depth - 1])))
                    .Where(a => Number(analysis["val_acc"]) - a.Item2 >= EssentialDrop).ToList(),
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or IOException or FormatException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"cannot read the retrieval run in '{folder}': {e.Message}", e);
        }
    }

    static double TrainSecondsOf(string summaryPath) =>
        File.Exists(summaryPath) && JsonNode.Parse(File.ReadAllText(summaryPath)) is JsonObject summary ? Number(summary["train_seconds"]) : double.NaN;

    /// <summary>For each number of look-ups, the first step of metrics.csv where its accuracy reached <see cref="LearnedAccuracy"/> (an empty list without metrics.csv).</summary>
    static IReadOnlyList<long?> Staircase(string metricsPath, int depth)
    {
        if (!File.Exists(metricsPath)) return [];
        var table = MetricsTable.Read(metricsPath);
        var steps = table.Column("step");
        return Enumerable.Range(1, depth).Select(h =>
        {
            var accuracy = table.Column($"acc_hops_{h}");
            int at = Array.FindIndex(accuracy, a => a >= LearnedAccuracy);
            return at < 0 ? (long?)null : (long)steps[at];
        }).ToList();
    }

    static double Number(JsonNode? node) => node is JsonValue v && v.TryGetValue(out double d) ? d : double.NaN;
}

/// <summary>
/// The retrieval sweep report: every analysed retrieval run found under some folders — sweep.csv (one row per
/// model: layers, depth, curriculum, seed, held-out accuracy), the success grid over layers × depth per kind of
/// training data with the bound ⌈log₃(2D)⌉ drawn on it, the emergence order and steps of every run that has the
/// emergence analysis, and the paper's claims with verdicts and seed counts.
/// </summary>
public static class RetrievalSweepReport
{
    public const string FileName = "sweep-report.md";
    public const string CsvName = "sweep.csv";

    /// <summary>A claim about emergence holds when this share of seeds shows it [ours].</summary>
    public const double SupportedShare = 0.8;

    public static string Write(IReadOnlyList<string> paths, string outDir, TextWriter output)
    {
        var (runs, unreadable) = RunSearch.ReadAll(paths, "retrieval", RetrievalRunSummary.Read);
        output.WriteLine($"{runs.Count} analysed retrieval runs" + (unreadable.Count > 0 ? $"; {unreadable.Count} unfinished or unreadable left out" : ""));
        outDir = Path.GetFullPath(outDir);
        string figures = Path.Combine(outDir, "figures");
        Directory.CreateDirectory(figures);
        runs = runs.OrderBy(r => r.Curriculum, StringComparer.Ordinal).ThenBy(r => r.Layers).ThenBy(r => r.Depth).ThenBy(r => r.Seed).ToList();
        WriteCsv(Path.Combine(outDir, CsvName), runs);

        var report = new ReportBuilder(outDir).Heading("Retrieval sweep", 1)
            .Paragraph($"{runs.Count} analysed retrieval runs, found under {RunSearch.Describe(paths, outDir)}; one row per model in " +
                       $"[{CsvName}]({CsvName}). A model solves its depth when its held-out accuracy at that depth is ≥ {RetrievalReport.SolvedAccuracy:P0}." +
                       (unreadable.Count == 0 ? "" : $" Left out (unfinished or unreadable): {unreadable.Count}."));
        var timed = runs.Where(r => double.IsFinite(r.TrainSeconds)).ToList();
        if (timed.Count > 0)
            report.Paragraph($"Compute: {timed.Sum(r => r.TrainSeconds * r.Threads) / 3600:F2} core-hours of training over {timed.Count} runs " +
                             $"(train_seconds × threads; the analyses and the emergence analysis come on top), longest run {timed.Max(r => r.TrainSeconds) / 60:F1} min.");
        var claims = new List<ClaimVerdict>
        {
            new("1. Multi-hop retrieval generalises induction to many look-ups", Verdict.NotTested,
                "a definition; our minimal formulation of it is in docs/experiments/retrieval.md"),
        };
        foreach (var curriculum in runs.Select(r => r.Curriculum).Distinct())
            GridSection(report, runs.Where(r => r.Curriculum == curriculum).ToList(), curriculum, figures);
        claims.Add(BoundClaim(runs));
        claims.Add(new("3. Large language models solve it by prompting", Verdict.NotTested,
            "out of reach: no pretrained weights can be fetched on this project's machines; we do not imitate it"));
        claims.Add(CurriculumClaim(runs));
        var emergent = runs.Where(r => r.Emergence is not null).ToList();
        claims.Add(EmergenceSection(report, emergent, figures));
        report.Heading("The paper's claims: verdicts").Claims(claims);
        string path = Path.Combine(outDir, FileName);
        Forge.Models.Checkpoints.AtomicFile.WriteAllText(path, report.ToString());
        return path;
    }

    static void WriteCsv(string path, IReadOnlyList<RetrievalRunSummary> runs)
    {
        var lines = new List<string> { "layers,depth,curriculum,seed,accuracy" };
        lines.AddRange(runs.Select(r => string.Join(',', r.Layers, r.Depth, r.Curriculum, r.Seed, r.Accuracy.ToString("R", CultureInfo.InvariantCulture))));
        Forge.Models.Checkpoints.AtomicFile.WriteAllText(path, string.Join('\n', lines) + "\n");
    }

    static void GridSection(ReportBuilder report, IReadOnlyList<RetrievalRunSummary> runs, string curriculum, string figures)
    {
        var layers = runs.Select(r => r.Layers).Distinct().Order().ToArray();
        var depths = runs.Select(r => r.Depth).Distinct().Order().ToArray();
        var solvedShare = new double[layers.Length, depths.Length];
        var rows = new List<IReadOnlyList<object?>>();
        for (int i = 0; i < layers.Length; i++)
        {
            var row = new List<object?> { layers[i] };
            for (int j = 0; j < depths.Length; j++)
            {
                var cell = runs.Where(r => r.Layers == layers[i] && r.Depth == depths[j]).ToList();
                solvedShare[i, j] = cell.Count == 0 ? double.NaN : cell.Count(r => r.Solved) / (double)cell.Count;
                row.Add(cell.Count == 0 ? "–" : $"{cell.Count(r => r.Solved)}/{cell.Count} ({string.Join(", ", cell.Select(r => F(r.Accuracy, 3)))})" +
                                                (layers[i] < RetrievalRecipe.LayersNeeded(depths[j]) ? " ·below" : ""));
            }
            rows.Add(row);
        }
        // Row 0 at the top is the most layers, so the grid reads like the paper's: layers up, depth right.
        var flipped = new double[layers.Length, depths.Length];
        for (int i = 0; i < layers.Length; i++) for (int j = 0; j < depths.Length; j++) flipped[i, j] = solvedShare[layers.Length - 1 - i, j];
        string figure = Path.Combine(figures, $"success_{new string(curriculum.Where(char.IsAsciiLetterOrDigit).ToArray())}.png");
        Figures.BoundGrid(figure, flipped, (r, c) => layers[layers.Length - 1 - r] >= RetrievalRecipe.LayersNeeded(depths[c]),
            $"Share of seeds solving depth D (curriculum {curriculum})", "depth D (look-ups)", "layers",
            layers.Reverse().Select(l => l.ToString(CultureInfo.InvariantCulture)).ToList(), depths.Select(d => d.ToString(CultureInfo.InvariantCulture)).ToList(), "solved share");
        report.Heading($"Layers × depth, curriculum {curriculum}: {runs.Count} models")
            .Paragraph("Each cell: seeds solving / seeds run (their held-out accuracies); ·below marks cells below the bound ⌈log₃(2D)⌉. " +
                       "In the figure the black staircase separates the cells the bound allows (above and left of it) from those it forbids.")
            .Table(["layers", .. depths.Select(d => $"D = {d} (bound {RetrievalRecipe.LayersNeeded(d)})")], rows)
            .Figure(figure, $"Solved share over layers × depth, curriculum {curriculum}, with the bound");
    }

    static ClaimVerdict BoundClaim(IReadOnlyList<RetrievalRunSummary> runs)
    {
        var below = runs.Where(r => r.BelowBound).ToList();
        var above = runs.Where(r => !r.BelowBound).ToList();
        int violations = below.Count(r => r.Solved);
        var bounds = above.Where(r => r.Solved).Select(r => r.LayersNeeded).Distinct().Count();
        string evidence = $"{below.Count} models below the bound (all kinds of training data, {below.Select(r => r.Seed).Distinct().Count()} seeds): {violations} solved their depth; " +
                          $"{above.Count} at or above it: {above.Count(r => r.Solved)} solved, covering {bounds} distinct values of the bound";
        var tightness = runs.Where(r => r.Solved).GroupBy(r => r.Depth).OrderBy(g => g.Key)
            .Select(g => $"D = {g.Key}: fewest layers that solved it {g.Min(r => r.Layers)} (bound {RetrievalRecipe.LayersNeeded(g.Key)})").ToList();
        if (tightness.Count > 0) evidence += "; " + string.Join("; ", tightness);
        bool enough = below.Select(r => r.Depth).Distinct().Count() >= 2 && below.Select(r => r.Seed).Distinct().Count() >= 2;
        var verdict = violations > 0 ? Verdict.NotSupported : above.Count(r => r.Solved) == 0 || !enough ? Verdict.Inconclusive : Verdict.Supported;
        return new("2. t layers solve D look-ups only if t ≥ log₃(2D)", verdict, evidence +
            " [ours: not supported if any model below the bound solves its depth; supported if none does, the models below it cover ≥ 2 depths and ≥ 2 seeds, and models at or above it solve theirs; inconclusive otherwise]");
    }

    static ClaimVerdict CurriculumClaim(IReadOnlyList<RetrievalRunSummary> runs)
    {
        // Depth 1 has no easier sub-problem, so every kind of data is the same there: only D ≥ 2, at or above the bound.
        var eligible = runs.Where(r => r.Depth >= 2 && !r.BelowBound).ToList();
        var none = eligible.Where(r => r.Curriculum == "none").ToList();
        var parts = eligible.GroupBy(r => r.Curriculum).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key}: {g.Count(r => r.Solved)}/{g.Count()} solved").ToList();
        if (none.Count == 0 || none.Count == eligible.Count)
            return new("4. Small transformers learn it only with an implicit curriculum", Verdict.Inconclusive,
                $"needs runs with and without a curriculum at or above the bound with D ≥ 2; have: {string.Join("; ", parts)}");
        double noneShare = none.Count(r => r.Solved) / (double)none.Count;
        var withCurriculum = eligible.Where(r => r.Curriculum != "none").ToList();
        double curriculumShare = withCurriculum.Count(r => r.Solved) / (double)withCurriculum.Count;
        var verdict = noneShare == 0 && curriculumShare >= 0.5 ? Verdict.Supported : curriculumShare > noneShare ? Verdict.PartlySupported : Verdict.NotSupported;
        return new("4. Small transformers learn it only with an implicit curriculum", verdict,
            $"models at or above the bound with D ≥ 2 — {string.Join("; ", parts)} [ours: supported if no `none` model solves its depth while at least half of the curriculum models do; partly if the curriculum solves a larger share]");
    }

    static ClaimVerdict EmergenceSection(ReportBuilder report, IReadOnlyList<RetrievalRunSummary> runs, string figures)
    {
        const string claim = "5. Stacked retrieval heads emerge one at a time, always in the same order, with a staircase loss";
        if (runs.Count == 0) return new(claim, Verdict.NotTested, "no run with the emergence analysis (analyze --run DIR --development)");
        report.Heading($"Emergence: {runs.Count} runs with the emergence analysis")
            .Paragraph("Per run, the heads of each hop in order of arrival (a hop's head arrives at the first checkpoint where its score passes half-way from its first-checkpoint value to its final value), " +
                       "and the order of the hops (a hop arrives with its first head). Heads of one layer are interchangeable between seeds, so orders are compared as " +
                       "hop sequences and as (hop, layer) sequences.")
            .Table(["run", "layers, depth, curriculum", "heads in order of arrival (hop: head @ step)", "hop order", "(hop, layer) order", "distinct arrival steps"],
                runs.Select(r => (IReadOnlyList<object?>)[$"seed {r.Seed}", $"{r.Layers}, {r.Depth}, {r.Curriculum}",
                    string.Join("; ", r.Emergence!.Select(e => $"{e.Hop}: {e.Name} @ {e.Step}")), HopOrder(r), LayerOrder(r), DistinctSteps(r)]));
        // The staircase read from accuracy alone: no head score, so it holds whatever circuit a seed found.
        report.Paragraph($"The accuracy staircase of the same runs (mechanism-free): the first evaluation at which held-out accuracy with h look-ups reached {RetrievalRunSummary.LearnedAccuracy:P0}; " +
                         $"and the heads whose zero-ablation costs ≥ {RetrievalRunSummary.EssentialDrop} of the final full-depth accuracy (accuracy with the head ablated), whatever their attention looks like.")
            .Table(["run", "curriculum", .. Enumerable.Range(1, runs.Max(r => r.Depth)).Select(h => $"{h} look-up{(h > 1 ? "s" : "")} learned at"), "final accuracy", "essential heads"],
                runs.Select(r => (IReadOnlyList<object?>)[$"seed {r.Seed}", r.Curriculum, .. Enumerable.Range(0, runs.Max(x => x.Depth)).Select(h => (object?)(h < r.LearnedAt.Count ? r.LearnedAt[h]?.ToString(CultureInfo.InvariantCulture) ?? "never" : "–")), F(r.Accuracy, 4),
                    r.Essential.Count == 0 ? "–" : string.Join(", ", r.Essential.Select(e => $"{e.Head} ({F(e.Accuracy, 2)})"))]));
        var curves = runs.Where(r => File.Exists(Path.Combine(r.Folder, RunFolder.MetricsFileName))).ToList();
        if (curves.Count > 0)
        {
            string path = Path.Combine(figures, "emergence_staircase.png");
            Figures.Lines(path, curves.Select(r =>
            {
                var table = MetricsTable.Read(Path.Combine(r.Folder, RunFolder.MetricsFileName));
                return new Series($"seed {r.Seed}, {r.Curriculum}", table.Column("step"), table.Column($"acc_hops_{r.Depth}"));
            }).ToList(), $"Held-out accuracy at full depth over training, every emergence run", "step", "accuracy", logX: true);
            report.Figure(path, "The staircase of every seed: accuracy at full depth over training");
        }
        var hops = runs.SelectMany(r => r.Emergence!.Select(e => e.Hop)).Distinct().Order().ToArray();
        if (hops.Length > 0)
        {
            string path = Path.Combine(figures, "emergence_steps.png");
            Figures.Lines(path, runs.Select(r => new Series($"seed {r.Seed}", hops.Select(h => (double)h).ToArray(),
                hops.Select(h => r.Emergence!.Where(e => e.Hop == h).Select(e => (double)e.Step).DefaultIfEmpty(double.NaN).Min()).ToArray())).ToList(),
                "Step at which each hop's first head arrived", "hop", "step", logY: true);
            report.Figure(path, "Arrival step of each hop, every seed");
        }
        var withLlc = runs.Where(r => r.Llc.Count > 1).ToList();
        if (withLlc.Count > 0)
        {
            string path = Path.Combine(figures, "emergence_llc.png");
            Figures.Lines(path, withLlc.Select(r => new Series($"seed {r.Seed}", r.Llc.Select(p => (double)p.Step).ToArray(), r.Llc.Select(p => p.Llc).ToArray())).ToList(),
                "LLC over the checkpoints of the emergence runs", "step", "λ̂", logX: true);
            report.Figure(path, "LLC over training, every emergence run");
            report.Paragraph("LLC at the checkpoint before and at each hop's arrival: " + string.Join("; ", withLlc.Select(r => $"seed {r.Seed}: " + string.Join(", ",
                r.Emergence!.GroupBy(e => e.Hop).OrderBy(g => g.Key).Select(g => LlcJump(r, g.Key, g.Min(e => e.Step)))))) + ".");
        }
        // Only runs with a head for every hop of their depth have a complete order to compare.
        // The claim is about one setting: orders are compared among the seeds of each (layers, depth, curriculum);
        // the verdict rests on the setting with the most seeds that have a head for every hop.
        var groups = runs.GroupBy(r => (r.Layers, r.Depth, r.Curriculum))
            .Select(g => (Setting: g.Key, Runs: g.ToList(), Complete: g.Where(r => Enumerable.Range(1, r.Depth).All(h => r.Emergence!.Any(e => e.Hop == h))).ToList()))
            .OrderByDescending(g => g.Complete.Count).ThenByDescending(g => g.Runs.Count).ToList();
        var parts = groups.Select(g => $"{g.Setting.Layers} layers × depth {g.Setting.Depth}, {g.Setting.Curriculum}: {Describe(g.Complete, g.Runs.Count)}").ToList();
        var best = groups[0];
        int n = best.Complete.Count;
        if (n == 0) return new(claim, Verdict.Inconclusive, $"no run has a head for every hop ({string.Join("; ", parts)})");
        bool sameOrder = ConsistentOrders(best.Complete);
        int oneAtATime = best.Complete.Count(r => DistinctSteps(r) == "yes");
        var verdict = n < 3 ? Verdict.Inconclusive
            : sameOrder && oneAtATime >= SupportedShare * n ? Verdict.Supported
            : sameOrder || oneAtATime > 0 ? Verdict.PartlySupported : Verdict.NotSupported;
        return new(claim, verdict, string.Join("; ", parts) +
            $" [ours: judged on the setting with the most seeds that have a head for every hop; hops arriving at one checkpoint are a tie (\"=\"), which contradicts no order; supported if no two of ≥ 3 such seeds order a pair of hops oppositely and the hops arrive one at a time in ≥ {SupportedShare:P0} of them]");
    }

    /// <summary>"n of m seeds have a head for every hop: the hop order … ; distinct arrival in k".</summary>
    static string Describe(IReadOnlyList<RetrievalRunSummary> complete, int total)
    {
        if (complete.Count == 0) return $"0 of {total} seeds have a head for every hop";
        var orders = complete.Select(HopOrder).ToList();
        bool same = ConsistentOrders(complete);
        string listed = string.Join(" | ", orders.GroupBy(o => o).Select(g => $"{g.Key} ×{g.Count()}"));
        return $"{complete.Count} of {total} seeds have a head for every hop; the hop order is " +
               (same ? (orders.Distinct().Count() == 1 ? $"the same in every one ({orders[0]})" : $"consistent across them, ties aside ({listed})") : $"not the same ({listed})") +
               $"; the hops arrive at distinct checkpoints in {complete.Count(r => DistinctSteps(r) == "yes")} of {complete.Count}";
    }

    /// <summary>The hops in order of their first head's arrival; hops arriving at the same checkpoint are joined by "=" (their order is not resolved).</summary>
    static string HopOrder(RetrievalRunSummary r) =>
        string.Join(" → ", FirstArrivals(r).GroupBy(a => a.Step).OrderBy(g => g.Key)
            .Select(g => string.Join(" = ", g.Select(a => a.Hop).Order().Select(h => h.ToString(CultureInfo.InvariantCulture)))));

    static IEnumerable<(int Hop, long Step)> FirstArrivals(RetrievalRunSummary r) => r.Emergence!.GroupBy(e => e.Hop).Select(g => (g.Key, g.Min(e => e.Step)));

    /// <summary>True when no two runs order a pair of hops oppositely (a tie contradicts neither order).</summary>
    static bool ConsistentOrders(IReadOnlyList<RetrievalRunSummary> runs)
    {
        var seen = new HashSet<(int Before, int After)>();
        foreach (var r in runs)
        {
            var first = FirstArrivals(r).ToList();
            foreach (var a in first)
                foreach (var b in first)
                    if (a.Step < b.Step) seen.Add((a.Hop, b.Hop));
        }
        return !seen.Any(p => seen.Contains((p.After, p.Before)));
    }

    static string LayerOrder(RetrievalRunSummary r) => string.Join(" → ", r.Emergence!.Select(e => $"({e.Hop}, L{e.Layer})"));

    /// <summary>"yes" when every hop's first head arrived at a different checkpoint.</summary>
    static string DistinctSteps(RetrievalRunSummary r)
    {
        var first = r.Emergence!.GroupBy(e => e.Hop).Select(g => g.Min(e => e.Step)).ToList();
        return first.Count == 0 ? "no heads" : first.Count > 1 && first.Distinct().Count() == first.Count ? "yes" : first.Count == 1 ? "one hop" : "no";
    }

    static string LlcJump(RetrievalRunSummary r, int hop, long step)
    {
        int at = r.Llc.ToList().FindIndex(p => p.Step == step);
        if (at < 0) return $"hop {hop} –";
        string before = at > 0 ? F(r.Llc[at - 1].Llc, 1) : "–";
        return $"hop {hop} {before} → {F(r.Llc[at].Llc, 1)}";
    }

    static string F(double v, int digits) => double.IsFinite(v) ? v.ToString("F" + digits, CultureInfo.InvariantCulture) : "–";
}
