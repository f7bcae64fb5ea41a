using System.CommandLine;
using Forge.Experiments.Cli;
using Forge.Experiments.Tools;
using Forge.Kernels.Threading;

namespace Forge.Tests.Experiments;

/// <summary>The command line: common options, one-line errors with exit code 2, help, info.</summary>
public class CliTests
{
    /// <summary>An experiment that records what it was given and can be told to fail.</summary>
    sealed class FakeExperiment : ExperimentCommand
    {
        public CommonSettings? Settings;
        public double LearningRate;
        public Exception? ThrowThis;
        readonly Option<double> _lr = OptionFactory.Double("--lr", "Learning rate.", 1e-3, min: 0);

        public override string Name => "fake";
        public override string Description => "A fake experiment for tests.";
        protected override int DefaultSteps => 7325;
        protected override ulong DefaultSeed => 42;
        protected override void AddOptions(Command command) => command.Options.Add(_lr);

        protected override int Run(ExperimentContext context)
        {
            if (ThrowThis is not null) throw ThrowThis;
            Settings = context.Settings;
            LearningRate = context.ParseResult.GetValue(_lr);
            context.Output.WriteLine("ran fake");
            return 0;
        }
    }

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

    (int Code, string Out, string Err) Run(params string[] args)
    {
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
        var result = Run("fake", "--steps", "100", "--seed", "7", "--threads", "1", "--device", "cpu", "--out", "somewhere", "--lr", "0.01");
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        Assert.That(result.Out, Does.Contain("ran fake"));
        var s = _fake.Settings!;
        Assert.That((s.Steps, s.Seed, s.Threads, s.Device, s.Out, s.Resume), Is.EqualTo((100, 7UL, 1, "cpu", "somewhere", false)));
        Assert.That(_fake.LearningRate, Is.EqualTo(0.01));
        Assert.That(ForkJoin.Threads, Is.EqualTo(1), "--threads sets ForkJoin.Threads");
    }

    [Test]
    public void Defaults_ComeFromTheExperiment()
    {
        var result = Run("fake");
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        var s = _fake.Settings!;
        Assert.That((s.Steps, s.Seed, s.Device, s.Threads, s.Out, s.ConfigPath), Is.EqualTo((7325, 42UL, "cpu", Environment.ProcessorCount, (string?)null, (string?)null)));
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
        Assert.That(_fake.Settings, Is.Null, "the experiment did not run");
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
        File.WriteAllText(path, """{ "n_layers": 1, "d_model": 96 }""");
        Assert.That(Run("fake", "--config", path).Code, Is.EqualTo(0));
        Assert.That(_fake.Settings!.Config!["d_model"]!.GetValue<int>(), Is.EqualTo(96));
    }

    [Test]
    public void UsageExceptionInCommand_IsOneLineExit2()
    {
        _fake.ThrowThis = new UsageException("run folder 'x' already holds a finished run");
        AssertOneLineUsageError(Run("fake"), "already holds a finished run");
    }

    [Test]
    public void UnexpectedException_IsMessageAndExit1()
    {
        _fake.ThrowThis = new InvalidOperationException("boom");
        var result = Run("fake");
        Assert.That(result.Code, Is.EqualTo(1));
        Assert.That(result.Err, Does.StartWith("error: unexpected InvalidOperationException: boom"));
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
