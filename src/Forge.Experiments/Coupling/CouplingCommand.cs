using System.CommandLine;
using System.Globalization;
using Forge.Experiments.Cli;
using Forge.Experiments.Framework;
using Forge.Experiments.Runs;
using Forge.Models.Checkpoints;
using Forge.Models.Transformers;

namespace Forge.Experiments.Coupling;

/// <summary>
/// <c>coupling --checkpoint C</c>: the coupling paper's measurements of one GPT-style checkpoint — the residual
/// Jacobian of every block along the prompts' trajectories (float64), their SVDs, the coupling matrices C_K,
/// token-wise coupling, trajectory line shape and growth — beside the same for an untrained copy of the
/// architecture and for random matrices; coupling.json, figures and report.md in <c>--out</c>.
/// </summary>
public sealed class CouplingCommand : ICliCommand
{
    /// <summary>K when --k is not given: those of the paper's 10, 30, 50 that fit d_model (all of d_model if none does).</summary>
    public static readonly int[] DefaultKs = [10, 30, 50];

    public Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Model checkpoint (conventions' layout; other files need --config). A checkpoint in a run folder's checkpoints/ is measured on that run's held-out data unless --tokens is given.", HelpName = "FILE.safetensors", Required = true };
        var config = new Option<string?>("--config") { Description = "Model config JSON, for checkpoints without 'config' metadata.", HelpName = "FILE.json" };
        var tokens = new Option<string?>("--tokens") { Description = "Prompts: a tensor 'tokens' [prompts, positions], int64 or int32 (continuous-input models: 'inputs' [prompts, positions, d_in]); default: the held-out data of the checkpoint's run.", HelpName = "FILE.safetensors" };
        var ks = new Option<string?>("--k") { Description = "Comma-separated K values (each ≤ d_model; default: those of 10,30,50 that fit).", HelpName = "K1,K2" };
        var positions = new Option<string>("--positions") { Description = "Positions whose Jacobians are taken: 'last', 'spread:N' (N evenly spaced, ending at the last) or a comma list (negative counts from the end). The layer × layer coupling uses the last of them.", HelpName = "SPEC", DefaultValueFactory = _ => "spread:8" };
        var prompts = OptionFactory.Int("--prompts", "Prompts to average over.", 16, 1);
        var tokenLayer = new Option<int?>("--token-layer") { Description = "Layer (0-based) of the token-wise coupling (default: the middle one).", HelpName = "L" };
        var init = OptionFactory.Choice("--init", "Initialisation of the untrained copy ('run': the checkpoint's run's own, else gpt2).", "run", "run", "gpt2", "scaled", "pytorch", "pytorch-sinusoidal");
        var repeats = OptionFactory.Int("--baseline-repeats", "Draws of the random-matrix baseline.", 4, 1);
        var outDir = new Option<string?>("--out") { Description = "Output folder (default runs/coupling-<timestamp>); one that holds results is refused.", HelpName = "DIR" };
        var threads = OptionFactory.Int("--threads", "Kernel threads, caller included.", Environment.ProcessorCount, 1);

        var command = new Command("coupling", "Transformer block coupling (Aubry et al. 2025) of one checkpoint: residual Jacobians along token trajectories, their SVDs, coupling across depth and tokens, line shape and growth, against an untrained copy and random matrices.")
        {
            checkpoint, config, tokens, ks, positions, prompts, tokenLayer, init, repeats, outDir, threads,
        };
        command.SetAction(parse =>
        {
            var settings = new CouplingSettings(parse.GetValue(checkpoint)!, parse.GetValue(config), parse.GetValue(tokens), parse.GetValue(ks), parse.GetValue(positions)!,
                parse.GetValue(prompts), parse.GetValue(tokenLayer), parse.GetValue(init)!, parse.GetValue(repeats), parse.GetValue(outDir));
            Kernels.Threading.ForkJoin.Threads = parse.GetValue(threads);
            Run(settings, parse.InvocationConfiguration.Output);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Measures and writes everything; returns the output folder. Bad input is a <see cref="UsageException"/> before anything is written.</summary>
    public static string Run(CouplingSettings s, TextWriter output)
    {
        TransformerConfig modelConfig;
        Transformer<double> model;
        int seed;
        try
        {
            var (file, config) = ModelCheckpoint.Read(s.Checkpoint, s.Config);
            modelConfig = config;
            model = ModelCheckpoint.LoadModel<double>(file, config);
            seed = file.Metadata.TryGetValue("seed", out var text) && int.TryParse(text, CultureInfo.InvariantCulture, out int parsed) ? parsed : 0;
        }
        catch (CheckpointException e) { throw new UsageException(e.Message, e); }

        var run = s.Tokens is null || s.Init == "run" ? CouplingPrompts.RunOf(s.Checkpoint) : null;
        var prompts = s.Tokens is not null ? CouplingPrompts.FromFile(s.Tokens, modelConfig, s.Prompts)
            : run is not null ? CouplingPrompts.FromRun(run, s.Prompts)
            : throw new UsageException($"--checkpoint '{s.Checkpoint}' is not in a run folder's checkpoints/, so there is no held-out data to measure on: pass --tokens FILE.safetensors");
        if (prompts.Select(p => p.Positions).Distinct().Count() != 1) throw new UsageException("coupling: the prompts differ in length");
        var options = new CouplingOptions(ParseKs(s.Ks, modelConfig.DModel), ParsePositions(s.Positions, prompts[0].Positions),
            s.TokenLayer ?? modelConfig.NLayers / 2);
        try { CouplingMeasurement.Validate(options, modelConfig.DModel, modelConfig.NLayers); }
        catch (ArgumentException e) { throw new UsageException(e.Message, e); }
        // The untrained reference: the run's own initial weights when the checkpoint has a run (and --init run), else a fresh initialisation.
        var (untrainedName, untrainedModel) = run is not null && s.Init == "run"
            ? ($"the run's own initial weights ({run.ModelInitialization})", run.InitialModel().Cast<double>())
            : Fresh(s.Init == "run" ? "gpt2" : s.Init, modelConfig, seed);

        using var folder = RunFolder.Open("coupling", s.Out, resume: false);
        output.WriteLine($"coupling → {folder.Root}");
        output.WriteLine($"{modelConfig.NLayers} blocks, d_model {modelConfig.DModel}; {prompts.Count} prompts of {prompts[0].Positions} positions; positions {string.Join(",", options.Positions)}; K {string.Join(",", options.Ks)}");
        output.WriteLine("trained:");
        var trained = CouplingMeasurement.Measure(model, prompts, options, output);
        output.WriteLine($"untrained ({untrainedName}):");
        var untrained = CouplingMeasurement.Measure(untrainedModel, prompts, options, output);
        var random = CouplingMeasurement.RandomBaseline(modelConfig.DModel, modelConfig.NLayers, options.Ks, s.BaselineRepeats, new Rng(12345));
        CouplingReport.Write(folder, s, modelConfig, trained, untrained, random, untrainedName);
        foreach (int k in options.Ks)
            output.WriteLine($"K = {k}: coupling scalar (mean 1 − m_K off the diagonal) " +
                             (modelConfig.NLayers < 2 ? "– (one block: no pairs across depth)" : $"trained {trained.Scalar[k]:F4}, untrained {untrained.Scalar[k]:F4}, random {CouplingMetric.Scalar(random[k]):F4}") +
                             $"; token-wise at block {trained.TokenLayer}: trained {CouplingMetric.Scalar(trained.TokenCoupling[k]):F4}, untrained {CouplingMetric.Scalar(untrained.TokenCoupling[k]):F4}");
        output.WriteLine($"line shape score: trained {trained.MeanLineShape:F3}, untrained {untrained.MeanLineShape:F3}; report: {folder.ReportPath}");
        return folder.Root;
    }

    /// <summary>A freshly initialised copy of the architecture (scheme <paramref name="name"/>, seeded from the checkpoint's seed).</summary>
    static (string Name, Transformer<double> Model) Fresh(string name, TransformerConfig config, int seed)
    {
        try { return ($"{name}, fresh", new Transformer<double>(config, GptRecipe.InitializationNamed(name), Rng.ForStream((ulong)seed, 0))); }
        catch (ArgumentException e) { throw new UsageException(e.Message, e); }
    }

    public static int[] ParseKs(string? text, int dModel)
    {
        if (text is null)
        {
            var fitting = DefaultKs.Where(k => k <= dModel).ToArray();
            return fitting.Length > 0 ? fitting : [dModel];
        }
        var ks = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, CultureInfo.InvariantCulture, out int k) || k < 1) throw new UsageException($"--k: '{part}' is not a positive whole number");
            if (k > dModel) throw new UsageException($"--k {k} is larger than the model's d_model = {dModel}");
            ks.Add(k);
        }
        if (ks.Count == 0) throw new UsageException("--k: no values");
        return [.. ks.Distinct().Order()];
    }

    /// <summary>'last', 'spread:N' or a comma list (negative = from the end), as sorted distinct positions of a prompt of <paramref name="length"/> tokens.</summary>
    public static int[] ParsePositions(string text, int length)
    {
        if (text == "last") return [length - 1];
        if (text.StartsWith("spread:", StringComparison.Ordinal))
        {
            if (!int.TryParse(text[7..], CultureInfo.InvariantCulture, out int n) || n < 1) throw new UsageException($"--positions '{text}': spread:N needs a positive N");
            n = Math.Min(n, length);
            // N positions evenly spaced over the prompt, the last one the last token.
            return [.. Enumerable.Range(1, n).Select(i => (int)Math.Round((double)i * length / n) - 1).Distinct().Order()];
        }
        var positions = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, CultureInfo.InvariantCulture, out int p)) throw new UsageException($"--positions: '{part}' is not 'last', 'spread:N' or a whole number");
            int at = p < 0 ? length + p : p;
            if (at < 0 || at >= length) throw new UsageException($"--positions: {p} is outside prompts of {length} tokens");
            positions.Add(at);
        }
        if (positions.Count == 0) throw new UsageException("--positions: no positions");
        return [.. positions.Distinct().Order()];
    }
}

/// <summary>The coupling command's options, as given.</summary>
public sealed record CouplingSettings(string Checkpoint, string? Config, string? Tokens, string? Ks, string Positions, int Prompts, int? TokenLayer,
    string Init, int BaselineRepeats, string? Out);
