using System.Text;
using Forge.Models.Checkpoints;
using Forge.Tests.Experiments;
using static Forge.Tests.Reliability.CliHarness;

namespace Forge.Tests.Reliability;

/// <summary>
/// Random command lines and random bytes where files are read. Whatever the input, Forge answers with
/// exit code 0, or 2 with exactly one "error: …" line — never a stack trace, never exit 1 — and no file
/// that existed before the command changes (a finished run, the inputs of <c>grads</c>). The random
/// choices come from fixed seeds: a failure names the command line, which reproduces it.
/// </summary>
public class FuzzTests
{
    TempFolder _temp = null!;
    string _finished = "", _checkpoint = "", _batch = "";
    Dictionary<string, byte[]> _before = null!;

    [OneTimeSetUp]
    public void TrainOneRun()
    {
        _temp = new TempFolder();
        _finished = _temp.Combine("finished");
        var result = Run(["sorting", "--out", _finished, .. TinySorting]);
        Assert.That(result.Code, Is.EqualTo(0), result.ToString());
        _checkpoint = Path.Combine(_finished, "checkpoints", "step-00000008.safetensors");
        _batch = _temp.Combine("batch.safetensors");
        var batch = new SafeTensorsFile();
        batch.Add("tokens", Tensor.FromArray(new int[2 * 9], [2, 9]));
        SafeTensors.Write(_batch, batch);
        _before = Snapshot(_temp.Path);
    }

    [OneTimeTearDown]
    public void Delete() => _temp.Dispose();

    static readonly string[] Garbage = ["", "0", "-1", "1e309", "NaN", "abc", "2147483648", "-0", "1,2", "log:", "💥", "--", "null", "3.5", "99999999999"];

    static readonly string[] SortingOptions =
    [
        "--list-length", "--max-value", "--gap-mean", "--heads", "--d-model", "--d-head", "--train-size", "--val-size", "--batch-size", "--epochs",
        "--lr", "--lr-final", "--weight-decay", "--checkpoints", "--eval-every", "--llc-chains", "--llc-draws", "--llc-burn-in", "--llc-epsilon",
        "--llc-gamma", "--llc-nbeta", "--llc-batch", "--seed", "--steps", "--device", "--threads", "--config", "--bogus",
    ];

    /// <summary>A sorting command line: the tiny recipe with 1–3 settings replaced by random values (garbage or plausible).</summary>
    string[] SortingLine(Random random, int index)
    {
        var settings = new Dictionary<string, string>();
        for (int i = 0; i + 1 < TinySorting.Length; i += 2) settings[TinySorting[i]] = TinySorting[i + 1];
        for (int n = random.Next(1, 4); n > 0; n--)
        {
            string option = SortingOptions[random.Next(SortingOptions.Length)];
            settings[option] = random.Next(3) == 0 ? random.Next(1, 40).ToString() : Garbage[random.Next(Garbage.Length)];
        }
        settings["--steps"] = settings.TryGetValue("--steps", out var s) && random.Next(2) == 0 ? s : "3";
        var args = new List<string> { "sorting", "--out", random.Next(6) == 0 ? _finished : _temp.Combine($"new-{index}"), "--no-analysis" };
        if (random.Next(8) == 0) args.Add("--resume");
        foreach (var (key, value) in settings) args.AddRange([key, value]);
        return [.. args];
    }

    string[] ToolLine(Random random) => random.Next(7) switch
    {
        0 => ["analyze", "--run", random.Next(2) == 0 ? _finished : Garbage[random.Next(Garbage.Length)], "--step", Garbage[random.Next(Garbage.Length)]],
        1 => ["grads", "--checkpoint", _checkpoint, "--batch", _batch, "--out", random.Next(2) == 0 ? _checkpoint : _temp.Combine($"g-{random.Next()}.safetensors"), "--dtype", Garbage[random.Next(Garbage.Length)]],
        2 => ["sorting-sweep-report", "--runs", random.Next(2) == 0 ? _finished : _temp.Combine("nowhere")],
        3 => ["llc-calibrate", "--run", _finished, "--epsilons", Garbage[random.Next(Garbage.Length)], "--chains", "1", "--draws", "2"],
        4 => ["sorting-sweep", "--out", _temp.Combine("sweep"), "--print", "--seeds", Garbage[random.Next(Garbage.Length)]],
        5 => ["explain", Garbage[random.Next(Garbage.Length)]],
        _ => [Garbage[random.Next(Garbage.Length)], "--out", _temp.Combine("x")],
    };

    void AssertAnswer(string[] args)
    {
        var result = Run(args);
        string line = string.Join(' ', args.Select(a => a.Length == 0 || a.Contains(' ') ? $"'{a}'" : a));
        Assert.That(result.Code == 0 || result.IsOneLineUsageError, $"{line}\n{result}");
        Assert.That(result.Out + result.Err, Does.Not.Contain("   at ").And.Not.Contain("Exception:"), $"a stack trace for: {line}");
        AssertUnchanged(_before, line);
    }

    [Test]
    public void RandomCommandLines([Range(0, 3)] int seed)
    {
        var random = new Random(1000 + seed);
        for (int i = 0; i < 40; i++) AssertAnswer(random.Next(3) == 0 ? ToolLine(random) : SortingLine(random, seed * 100 + i));
    }

    /// <summary>A copy of the finished run whose <paramref name="victim"/> gets random bytes, a truncation or one flipped bit.</summary>
    string Damaged(Random random, string victim, int index)
    {
        string copy = _temp.Combine($"damaged-{index}");
        foreach (var file in Directory.EnumerateFiles(_finished, "*", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(file).StartsWith(".lock", StringComparison.Ordinal)) continue;
            string target = Path.Combine(copy, Path.GetRelativePath(_finished, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        string path = Path.Combine(copy, victim);
        var bytes = File.ReadAllBytes(path);
        switch (random.Next(3))
        {
            case 0: random.NextBytes(bytes = new byte[random.Next(0, 256)]); break;
            case 1: bytes = bytes[..random.Next(bytes.Length)]; break;
            default: bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8)); break;
        }
        File.WriteAllBytes(path, bytes);
        return copy;
    }

    [Test]
    public void RandomBytesWhereFilesAreRead([Range(0, 2)] int seed)
    {
        var random = new Random(2000 + seed);
        for (int i = 0; i < 12; i++)
        {
            int index = seed * 100 + i;
            switch (i % 4)
            {
                case 0:
                {
                    string run = Damaged(random, "checkpoints/step-00000008.safetensors", index);
                    AssertAnswer(["analyze", "--run", run]);
                    File.Delete(Path.Combine(run, "summary.json"));
                    AssertAnswer(["sorting", "--out", run, "--resume", "--no-analysis"]);
                    break;
                }
                case 1:
                {
                    string run = Damaged(random, "config.json", index);
                    AssertAnswer(["analyze", "--run", run]);
                    AssertAnswer(["sorting", "--out", run, "--resume", "--no-analysis"]);
                    AssertAnswer(["sorting", "--out", _temp.Combine($"from-config-{index}"), "--config", Path.Combine(run, "config.json"), "--steps", "2", "--no-analysis"]);
                    break;
                }
                case 2:
                {
                    string batch = _temp.Combine($"batch-{index}.safetensors");
                    File.WriteAllBytes(batch, Mutate(random, File.ReadAllBytes(_batch)));
                    AssertAnswer(["grads", "--checkpoint", _checkpoint, "--batch", batch, "--out", _temp.Combine($"grads-{index}.safetensors")]);
                    break;
                }
                default:
                {
                    string checkpoint = _temp.Combine($"ckpt-{index}.safetensors");
                    File.WriteAllBytes(checkpoint, Mutate(random, File.ReadAllBytes(_checkpoint)));
                    AssertAnswer(["grads", "--checkpoint", checkpoint, "--batch", _batch, "--out", _temp.Combine($"grads-{index}.safetensors")]);
                    break;
                }
            }
        }
    }

    static byte[] Mutate(Random random, byte[] bytes)
    {
        bytes = (byte[])bytes.Clone();
        switch (random.Next(4))
        {
            case 0: random.NextBytes(bytes = new byte[random.Next(0, 512)]); break;
            case 1: bytes = bytes[..random.Next(bytes.Length)]; break;
            case 2: for (int k = 0; k < 4; k++) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8)); break;
            default:
                // A header that still parses, with one number changed: shapes, offsets, dtypes.
                string text = Encoding.Latin1.GetString(bytes);
                int digit = text.IndexOfAny("0123456789".ToCharArray(), 8 + random.Next(Math.Min(200, text.Length - 8)));
                if (digit > 0) bytes[digit] = (byte)('0' + random.Next(10));
                break;
        }
        return bytes;
    }
}
