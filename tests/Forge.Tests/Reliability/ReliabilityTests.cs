using System.Diagnostics;
using System.Text.Json.Nodes;
using Forge.Experiments.Runs;
using Forge.Experiments.Sweeps;
using Forge.Models.Checkpoints;
using Forge.Tests.Experiments;
using static Forge.Tests.Reliability.CliHarness;

namespace Forge.Tests.Reliability;

/// <summary>
/// One regression test per defect of the reliability review (docs/reliability.md lists the promises):
/// GPU-path resume, two processes on one folder, NaN checkpoints, validation before writing, one-line
/// errors for bad files, outputs that never destroy inputs, resume semantics and the small ones.
/// </summary>
public class ReliabilityTests
{
    TempFolder _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempFolder();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    string Train(string name, params string[] more)
    {
        string dir = _temp.Combine(name);
        var result = Run(["sorting", "--out", dir, "--no-analysis", .. TinySorting, .. more]);
        Assert.That(result.Code, Is.EqualTo(0), result.ToString());
        return dir;
    }

    [Test]
    public void Defect1_ResumeOnTheGpuKernelPathGivesTheUninterruptedNumbers()
    {
        string whole = Train("whole", "--device", "ilgpu-cpu", "--steps", "4");
        string split = Train("split", "--device", "ilgpu-cpu", "--steps", "4");
        File.Delete(Path.Combine(split, "summary.json"));
        File.Delete(Path.Combine(split, "checkpoints", "step-00000004.safetensors"));
        var resumed = Run("sorting", "--out", split, "--resume", "--no-analysis");
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.ToString());
        Assert.That(resumed.Out, Does.Contain("resuming from checkpoints/step-00000002.safetensors").And.Contain("device ilgpu-cpu"),
            "the run stays on its device without --device");
        var a = SafeTensors.Read(Path.Combine(whole, "checkpoints", "step-00000004.safetensors"));
        var b = SafeTensors.Read(Path.Combine(split, "checkpoints", "step-00000004.safetensors"));
        foreach (var name in a.Names) Assert.That(b.GetFloat(name).ToArray(), Is.EqualTo(a.GetFloat(name).ToArray()), name);
    }

    [Test]
    public void Defect2_AnotherProcessHoldingTheFolderIsRefusedInOneLine()
    {
        string dir = _temp.Combine("busy");
        var launcher = ProgramLauncher.Current();
        var info = launcher.StartInfo(["sorting", "--out", dir, "--no-analysis", .. TinySorting, "--steps", "100000", "--threads", "1"]);
        using var child = Process.Start(info)!;
        try
        {
            string owner = Path.Combine(dir, RunFolderLock.OwnerFileName);
            var clock = Stopwatch.StartNew();
            string config = Path.Combine(dir, "config.json");
            while (!(File.Exists(owner) && File.ReadAllText(owner).Trim() == child.Id.ToString() && File.Exists(config)) && clock.Elapsed < TimeSpan.FromSeconds(60))
                Thread.Sleep(50);
            Assert.That(child.HasExited, Is.False, "the child trains");
            var before = Snapshot(dir);
            foreach (var args in new[] { new[] { "sorting", "--out", dir, "--resume", "--no-analysis" }, ["sorting", "--out", dir, "--no-analysis"], ["analyze", "--run", dir] })
            {
                var result = Run(args);
                Assert.That(result.IsOneLineUsageError, result.ToString());
                Assert.That(result.Err, Does.Contain("in use by another Forge process").And.Contain($"pid {child.Id}"));
            }
            Assert.That(File.ReadAllBytes(config), Is.EqualTo(before[config]), "the loser wrote nothing");
        }
        finally
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
        }
        Assert.That(Run("sorting", "--out", dir, "--resume", "--no-analysis", "--steps", "8").Code, Is.EqualTo(0), "a killed holder leaves no stale lock");
    }

    [Test]
    public void Defect3_AnUpdateThatBreaksTheWeightsIsNeverCheckpointed()
    {
        string dir = _temp.Combine("nan");
        var tinyWithACheckpointEveryStep = TinySorting.Select(a => a == "linear:2" ? "linear:1" : a).ToArray();
        var result = Run(["sorting", "--out", dir, "--no-analysis", .. tinyWithACheckpointEveryStep, "--lr", "1e300"]);
        Assert.That(result.IsOneLineUsageError, result.ToString());
        Assert.That(result.Err, Does.Contain("training diverged: the update of step 1 made").And.Contain("non-finite").And.Contain("no checkpoint was written before it"));
        Assert.That(Directory.GetFiles(Path.Combine(dir, "checkpoints")), Is.Empty);
        Assert.That(File.Exists(Path.Combine(dir, "summary.json")), Is.False);
    }

    [TestCase("--checkpoints", "foo")]
    [TestCase("--checkpoints", "log:0")]
    [TestCase("--checkpoints", "linear:-3")]
    [TestCase("--batch-size", "100000000")]
    [TestCase("--train-size", "2000000000")]
    [TestCase("--val-size", "2000000000")]
    [TestCase("--heads", "100000")]
    [TestCase("--d-model", "100000")]
    [TestCase("--max-value", "2147483647")]
    [TestCase("--epochs", "2000000000")]
    public void Defect4_EverySettingIsCheckedBeforeTheFolderExists(string option, string value)
    {
        string dir = _temp.Combine("never");
        var result = Run("sorting", "--out", dir, option, value);
        Assert.That(result.IsOneLineUsageError, result.ToString());
        Assert.That(Directory.Exists(dir), Is.False, "nothing written");
        string config = _temp.Combine("config.json");
        File.WriteAllText(config, new JsonObject { [option.TrimStart('-').Replace('-', '_')] = JsonValue.Create(int.TryParse(value, out int n) ? n : (object)value) }.ToJsonString());
        var viaConfig = Run("sorting", "--out", dir, "--config", config);
        Assert.That(viaConfig.IsOneLineUsageError, viaConfig.ToString());
        Assert.That(Directory.Exists(dir), Is.False, "nothing written (--config)");
    }

    [Test]
    public void Defect5_BadFoldersAndFilesAreOneLineErrorsNamingThem()
    {
        foreach (var (args, mention) in new (string[], string)[]
        {
            (["sorting", "--out", ""], "--out is empty"),
            (["sorting", "--out", "/proc/forge-run"], "/proc/forge-run"),
            (["analyze", "--run", _temp.Combine("absent")], "does not exist"),
        })
        {
            var result = Run(args);
            Assert.That(result.IsOneLineUsageError, result.ToString());
            Assert.That(result.Err, Does.Contain(mention));
        }

        string run = Train("run");
        string corrupt = _temp.Combine("corrupt");
        CopyFolder(run, corrupt);
        File.WriteAllText(Path.Combine(corrupt, "config.json"), "{\"experiment\": \"sorting\", \"seed\": ");
        foreach (var args in new[] { new[] { "sorting", "--out", corrupt, "--resume" }, ["analyze", "--run", corrupt] })
        {
            var result = Run(args);
            Assert.That(result.IsOneLineUsageError, result.ToString());
            Assert.That(result.Err, Does.Contain(Path.Combine(corrupt, "config.json")));
        }
    }

    [Test]
    public void Defect5_AnUnreadableLatestCheckpoint_ResumeFallsBackAndSaysSo_AnalyzeNamesIt()
    {
        string run = Train("run", "--steps", "6");
        File.Delete(Path.Combine(run, "summary.json"));
        string latest = Path.Combine(run, "checkpoints", "step-00000006.safetensors");
        File.WriteAllBytes(latest, [1, 2, 3, 4, 5, 6, 7, 8, 9]);

        var analyze = Run("analyze", "--run", run);
        Assert.That(analyze.IsOneLineUsageError, analyze.ToString());
        Assert.That(analyze.Err, Does.Contain(latest));

        var resumed = Run("sorting", "--out", run, "--resume", "--no-analysis");
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.ToString());
        Assert.That(resumed.Out, Does.Contain("checkpoints/step-00000006.safetensors cannot be resumed from").And.Contain("resuming from checkpoints/step-00000004.safetensors"));
        Assert.That(SafeTensors.Read(latest).Names, Is.Not.Empty, "the step-6 checkpoint is written again, whole");
    }

    [Test]
    public void Defect5_AnalyzeOnNaNWeightsIsOneLineAndWritesNoFigure()
    {
        string run = Train("run");
        string path = Path.Combine(run, "checkpoints", "step-00000008.safetensors");
        var file = SafeTensors.Read(path);
        var broken = new SafeTensorsFile(path);
        foreach (var (key, value) in file.Metadata) broken.Metadata[key] = value;
        foreach (var name in file.Names)
        {
            var tensor = file.GetFloat(name);
            if (name == "unembed.W_U") tensor.AsSpan()[0] = float.NaN;
            broken.Add(name, tensor);
        }
        SafeTensors.Write(path, broken);
        var result = Run("analyze", "--run", run);
        Assert.That(result.IsOneLineUsageError, result.ToString());
        Assert.That(result.Err, Does.Contain("non-finite weights (unembed.W_U)"));
        Assert.That(Directory.GetFiles(Path.Combine(run, "figures")), Is.Empty);
    }

    [Test]
    public void Defect6_TheSweepReportIsNeverWrittenIntoARunFolder()
    {
        string run = Train("run");
        var before = Snapshot(run);
        var result = Run("sorting-sweep-report", "--runs", run);
        Assert.That(result.IsOneLineUsageError, result.ToString());
        Assert.That(result.Err, Does.Contain("is a run folder"));
        AssertUnchanged(before, "sorting-sweep-report --runs <run>");
        Assert.That(Run("sorting-sweep-report", "--runs", run, "--out", _temp.Combine("report")).Code, Is.EqualTo(0));
    }

    [Test]
    public void Defect7_AResumeOnAnotherDeviceIsAllowedAndRecorded()
    {
        string run = Train("run", "--steps", "4");
        File.Delete(Path.Combine(run, "summary.json"));
        var resumed = Run("sorting", "--out", run, "--resume", "--steps", "6", "--device", "ilgpu-cpu", "--no-analysis");
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.ToString());
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!;
        Assert.That((config["device"]!.GetValue<string>(), config["steps"]!.GetValue<int>()), Is.EqualTo(("ilgpu-cpu", 6)));
    }

    [Test]
    public void Defect9_RepeatedOptionsAndSlurmTimesAreNamed()
    {
        var repeated = Run("sorting", "--heads", "2", "--heads", "3");
        Assert.That(repeated.IsOneLineUsageError, repeated.ToString());
        Assert.That(repeated.Err, Does.Contain("--heads is given 2 times ('2', '3')"));
        var slurm = Run("sorting-sweep", "--out", _temp.Combine("sweep"), "--slurm", "--slurm-time", "tomorrow");
        Assert.That(slurm.IsOneLineUsageError, slurm.ToString());
        Assert.That(slurm.Err, Does.Contain("'tomorrow'"));
        Assert.That(SweepScripts.IsSlurmTime("2-03:00:00") && SweepScripts.IsSlurmTime("90") && SweepScripts.IsSlurmTime("01:30:00"));
    }

    static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
