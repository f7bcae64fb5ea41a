using System.CommandLine;
using Forge.Experiments.Cli;
using Forge.Experiments.Tools;
using Forge.Kernels.Threading;

namespace Forge.Tests.Experiments;

/// <summary>The command line: common options, one-line errors with exit code 2, help, info.</summary>
public class CliTests
{
    FakeExperiment _fake = null!;
    int _threadsBefore;

    [SetUp]
    public void SetUp()
    {
        _fake = new FakeExperiment();
        _threadsBefore = ForkJoin.Threads;
    }

    [TearDown]
    public void TearDown() => ForkJoin.Threads = _threadsBefore;

    readonly TempFolder _temp = new();

    [OneTimeTearDown]
    public void DeleteTemp() => _temp.Dispose();

    (int Code, string Out, string Err) Run(params string[] args)
    {
        // A fake run writes a real run folder: give it a fresh one unless the test names one.
        if (args.Length > 0 && args[0] == "fake" && !args.Contains("--out") && !args.Contains("--help") && !args.Contains("--resume"))
            args = ["fake", "--out", _temp.Combine(Guid.NewGuid().ToString("N")), .. args[1..]];
        var registry = new CommandRegistry().Register(new InfoCommand()).Register(_fake);
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, registry, output, error);
        return (code, output.ToString(), error.ToString());
    }

    internal static void AssertOneLineUsageError((int Code, string Out, string Err) result, params string[] mustContain)
    {
        Assert.That(result.Code, Is.EqualTo(2), result.Err);
        var lines = result.Err.TrimEnd('\n').Split('\n');
        Assert.That(lines, Has.Length.EqualTo(1), "exactly one line on stderr: " + result.Err);
        Assert.That(lines[0], Does.StartWith("error: "));
        foreach (var text in mustContain) Assert.That(lines[0], Does.Contain(text));
        Assert.That(result.Out, Is.Empty, "no help text after an error");
    }

    [Test]
    public void GoodOptions_AreBoundAndApplied()
    {
        string dir = _temp.Combine("good");
        var result = Run("fake", "--steps", "100", "--seed", "7", "--threads", "1", "--device", "cpu", "--out", dir, "--lr", "0.01");
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        Assert.That(result.Out, Does.Contain("fake analysed"));
        Assert.That((_fake.Steps, _fake.Seed, _fake.Device), Is.EqualTo((100, 7UL, (Device)CpuDevice.Instance)));
        Assert.That(File.Exists(Path.Combine(dir, "summary.json")), "the run folder is the one --out names");
        Assert.That(_fake.Recipe!.LearningRate, Is.EqualTo(0.01));
        Assert.That(ForkJoin.Threads, Is.EqualTo(1), "--threads sets ForkJoin.Threads");
    }

    [Test]
    public void Defaults_ComeFromTheExperiment()
    {
        var result = Run("fake", "--no-analysis");
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        Assert.That((_fake.Steps, _fake.Seed, _fake.Device), Is.EqualTo((7325, 0UL, (Device)CpuDevice.Instance)));
        Assert.That(_fake.Recipe, Is.EqualTo(new FakeRecipe()));
        Assert.That(ForkJoin.Threads, Is.EqualTo(Environment.ProcessorCount));
    }

    [TestCase("--steps", "abc")]
    [TestCase("--steps", "0")]
    [TestCase("--steps", "1.5")]
    [TestCase("--seed", "-1")]
    [TestCase("--seed", "x7")]
    [TestCase("--threads", "0")]
    [TestCase("--lr", "fast")]
    [TestCase("--lr", "-0.1")]
    public void BadValue_IsOneLineNamingItAndExit2(string option, string value)
    {
        AssertOneLineUsageError(Run("fake", option, value), $"'{value}'", option);
        Assert.That(_fake.Recipe, Is.Null, "the experiment did not run");
    }

    [Test]
    public void UnavailableDevice_SaysWhichAreAvailable()
    {
        if (DeviceCatalog.AvailableNames.Contains("cuda")) Assert.Ignore("this machine has a CUDA device");
        var result = Run("fake", "--device", "cuda");
        AssertOneLineUsageError(result);
        Assert.That(result.Err.Trim(), Is.EqualTo($"error: device 'cuda' is not available on this machine (available: {string.Join(", ", DeviceCatalog.AvailableNames)})"));
        Assert.That(DeviceCatalog.AvailableNames, Does.Contain("cpu").And.Contain("ilgpu-cpu"));
        Assert.That(DeviceCatalog.BestAvailable, Is.Not.EqualTo("ilgpu-cpu"), "the emulator is never the default");
        Assert.That(DeviceCatalog.BestAvailable, Is.Not.EqualTo("opencl"), "OpenCL only when asked for");
    }

    [Test]
    public void UnknownDevice_IsNamed() => AssertOneLineUsageError(Run("fake", "--device", "tpu"), "'tpu'", "cpu, cuda, opencl, ilgpu-cpu");

    [Test]
    public void UnknownOption_IsNamed() => AssertOneLineUsageError(Run("fake", "--bogus", "3"), "--bogus");

    [Test]
    public void UnknownCommand_IsNamed() => AssertOneLineUsageError(Run("nosuch"), "nosuch");

    [Test]
    public void MissingValue_IsOneLine() => AssertOneLineUsageError(Run("fake", "--steps"), "--steps");

    [Test]
    public void NoCommand_IsOneLine() => AssertOneLineUsageError(Run(), "no command given");

    [Test]
    public void ResumeWithoutOut_IsUsageError() => AssertOneLineUsageError(Run("fake", "--resume"), "--resume", "--out");

    [Test]
    public void MissingConfigFile_IsNamed() => AssertOneLineUsageError(Run("fake", "--config", "/nonexistent/x.json"), "'/nonexistent/x.json'");

    [Test]
    public void BadConfigJson_IsOneLine()
    {
        using var temp = new TempFolder();
        string path = temp.Combine("bad.json");
        File.WriteAllText(path, "{\n  \"n_layers\": 1,\n  oops\n}");
        AssertOneLineUsageError(Run("fake", "--config", path), path, "not valid JSON");
    }

    [Test]
    public void GoodConfigJson_IsLoaded()
    {
        using var temp = new TempFolder();
        string path = temp.Combine("model.json");
        File.WriteAllText(path, """{ "heads": 5, "learning_rate": 0.5 }""");
        var result = Run("fake", "--config", path, "--lr", "0.25", "--no-analysis");
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        Assert.That((_fake.Recipe!.Heads, _fake.Recipe.LearningRate), Is.EqualTo((5, 0.25)), "the file's keys, then the options given");
    }

    [Test]
    public void UsageExceptionInCommand_IsOneLineExit2()
    {
        _fake.ThrowThis = new UsageException("run folder 'x' already holds a finished run");
        var result = Run("fake");
        Assert.That(result.Code, Is.EqualTo(2), result.Err);
        Assert.That(result.Err.TrimEnd('\n'), Is.EqualTo("error: run folder 'x' already holds a finished run"));
    }

    [Test]
    public void UnexpectedException_IsMessageAndExit1()
    {
        _fake.ThrowThis = new InvalidOperationException("boom");
        string dir = _temp.Combine("boom");
        var result = Run("fake", "--out", dir);
        Assert.That(result.Code, Is.EqualTo(1));
        Assert.That(result.Err.TrimEnd('\n').Split('\n'), Has.Length.EqualTo(1), "one line: " + result.Err);
        string log = Path.Combine(dir, CliApp.ErrorLogName);
        Assert.That(result.Err, Does.StartWith("error: internal error (InvalidOperationException: boom)").And.Contain(log));
        Assert.That(File.ReadAllText(log), Does.Contain("InvalidOperationException: boom").And.Contain("at "), "the trace is in the run's log");
    }

    [Test]
    public void RootHelp_ListsCommandsAndExits0()
    {
        var result = Run("--help");
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        Assert.That(result.Out, Does.Contain("info").And.Contain("fake"));
        Assert.That(result.Err, Is.Empty);
    }

    [Test]
    public void CommandHelp_ListsCommonOptionsAndExits0()
    {
        var result = Run("fake", "--help");
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        foreach (var option in new[] { "--out", "--seed", "--steps", "--device", "--threads", "--config", "--resume", "--lr" })
            Assert.That(result.Out, Does.Contain(option));
        Assert.That(result.Out, Does.Contain("7325"), "help shows the experiment's default steps");
    }

    [Test]
    public void Help_WinsOverOtherwiseBadOptions() => Assert.That(Run("fake", "--help", "--steps", "0").Code, Is.EqualTo(0));

    [Test]
    public void Info_PrintsMachineFacts()
    {
        var result = Run("info");
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        foreach (var key in new[] { "engine:", "cpu:", "vectors:", "cores:", "devices:" })
            Assert.That(result.Out, Does.Contain(key));
        Assert.That(result.Out, Does.Contain("Vector256").Or.Contain("none accelerated"));
        Assert.That(result.Out, Does.Contain($"cores:     {Environment.ProcessorCount}"));
    }

    [Test]
    public void Discover_FindsInfo()
    {
        var registry = CommandRegistry.Discover(typeof(InfoCommand).Assembly);
        Assert.That(registry.Commands.Select(c => c.GetType()), Does.Contain(typeof(InfoCommand)));
    }
}
