using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Forge.Experiments.Cli;
using Forge.Experiments.Framework;
using Forge.Tests.Experiments;

namespace Forge.Tests.Framework;

/// <summary>Options generated from recipe records: true defaults in --help, every setting kind, and the one JSON path for defaults, --config and options.</summary>
public class RecipeOptionsTests
{
    /// <summary>"[default: X]" of every option in a command's --help.</summary>
    static Dictionary<string, string> HelpDefaults(ICliCommand command)
    {
        var output = new StringWriter();
        int code = CliApp.Run([command.Create().Name, "--help"], new CommandRegistry().Register(command), output, new StringWriter());
        Assert.That(code, Is.EqualTo(0));
        var defaults = new Dictionary<string, string>();
        foreach (Match m in Regex.Matches(output.ToString(), @"^\s+(--[a-z0-9-]+)[^\n]*?\[default: ([^\]]*)\]\s*$", RegexOptions.Multiline))
            defaults[m.Groups[1].Value] = m.Groups[2].Value;
        return defaults;
    }

    static IEnumerable<IExperiment> Experiments() => ExperimentCatalog.All.Append(new FakeExperiment());

    [TestCaseSource(nameof(Experiments))]
    public void EveryHelpDefaultIsTheRecipesDefault(IExperiment experiment)
    {
        var command = experiment.Commands().First();
        var help = HelpDefaults(command);
        Assert.That(experiment.Settings, Is.Not.Empty);
        foreach (var setting in experiment.Settings)
        {
            if (setting.Option is Option<bool>) continue;   // a flag has no default to show: it only changes the recipe's
            Assert.That(help.TryGetValue(setting.Option.Name, out string? shown), $"{setting.Option.Name} shows a default");
            string expected = setting.Default switch
            {
                null => "?",
                JsonValue v when v.TryGetValue(out double d) => d.ToString(CultureInfo.InvariantCulture),
                JsonValue v when v.TryGetValue(out string? s) => s,
                JsonArray a => string.Join(",", a.Select(x => x!.GetValue<double>().ToString("R", CultureInfo.InvariantCulture))),
                var other => other.ToJsonString(),
            };
            if (setting.Default is null)
                Assert.That(shown, Does.Not.Match(@"^[-0-9]"), $"{setting.Option.Name}: a null default shows its word, not a number");
            else if (setting.Default is JsonValue number && number.TryGetValue(out double value))
                Assert.That(double.Parse(shown!, CultureInfo.InvariantCulture), Is.EqualTo(value), setting.Option.Name);
            else Assert.That(shown, Is.EqualTo(expected), setting.Option.Name);
        }
    }

    [Test]
    public void SortingHelpShowsTheCalibratedLlcDefaultsAndUniformLists()
    {
        var help = HelpDefaults(ExperimentCatalog.Named("sorting").Commands().First());
        Assert.That(help["--llc-nbeta"], Is.EqualTo("10000"));
        Assert.That(help["--gap-mean"], Is.EqualTo("uniform"));
        Assert.That(help["--steps"], Is.EqualTo("7325"), "25 epochs of 293 steps");
    }

    static FakeRecipe Bind(params string[] args)
    {
        var fake = new FakeExperiment();
        var command = fake.Commands().First().Create();
        var parse = command.Parse(args);
        Assert.That(parse.Errors, Is.Empty, string.Join("; ", parse.Errors.Select(e => e.Message)));
        return fake.Options.Bind(null, null, fake.Options.Explicit(parse));
    }

    [Test]
    public void EveryKindOfSettingParses()
    {
        var recipe = Bind("--lr", "0.5", "--heads", "3", "--no-widget", "--gap-mean", "2.5", "--range", "-2,0.5", "--label", "x", "--llc-nbeta", "auto");
        Assert.That(recipe, Is.EqualTo(new FakeRecipe
        {
            LearningRate = 0.5, Heads = 3, Widget = false, GapMean = 2.5, Range = new Interval(-2, 0.5), Label = "x", LlcNBeta = null,
        }));
        Assert.That(Bind("--gap-mean", "none").GapMean, Is.Null);
        Assert.That(Bind(), Is.EqualTo(new FakeRecipe()), "no option: the record's defaults");
    }

    [TestCase("--heads", "9", "in [1, 8]")]
    [TestCase("--range", "1,-1", "MIN ≤ MAX")]
    [TestCase("--range", "-11,0", "MIN,MAX")]
    [TestCase("--gap-mean", "0.5", "or 'none'")]
    [TestCase("--gap-mean", "many", "or 'none'")]
    [TestCase("--llc-nbeta", "-3", "'auto'")]
    public void BadValuesAreNamedAtParseTime(string option, string value, string hint)
    {
        var parse = new FakeExperiment().Commands().First().Create().Parse([option, value]);
        Assert.That(parse.Errors, Has.Count.EqualTo(1));
        Assert.That(parse.Errors[0].Message, Does.Contain($"'{value}'").And.Contain(option).And.Contain(hint));
    }

    [Test]
    public void ConfigKeysThenOptions_AndUnknownOrBadKeysAreNamed()
    {
        var fake = new FakeExperiment();
        var config = new JsonObject { ["heads"] = 4, ["range"] = new JsonArray(0.0, 3.0), ["seed"] = 9, ["experiment"] = "fake" };
        var recipe = fake.Options.Bind(config, "config file 'c.json'", new JsonObject { ["heads"] = 5 });
        Assert.That((recipe.Heads, recipe.Range), Is.EqualTo((5, new Interval(0, 3))), "an option given beats the file; common keys are skipped");

        var unknown = Assert.Throws<UsageException>(() => fake.Options.Bind(new JsonObject { ["hedas"] = 4 }, "config file 'c.json'", []))!;
        Assert.That(unknown.Message, Does.Contain("unknown setting 'hedas'").And.Contain("heads"));
        var wrongType = Assert.Throws<UsageException>(() => fake.Options.Bind(new JsonObject { ["heads"] = "four" }, "config file 'c.json'", []))!;
        Assert.That(wrongType.Message, Does.Contain("'heads'").And.Contain("c.json"));
        var badRange = Assert.Throws<UsageException>(() => fake.Options.Bind(new JsonObject { ["range"] = new JsonArray(2.0, 1.0) }, "config file 'c.json'", []))!;
        Assert.That(badRange.Message, Does.Contain("'range'").And.Contain("min ≤ max"));
        var invalid = Assert.Throws<UsageException>(() => fake.Options.Bind(null, null, new JsonObject { ["label"] = "bad" }))!;
        Assert.That(invalid.Message, Does.Contain("label 'bad'"), "the recipe's own validation");
        var grid = Assert.Throws<UsageException>(() => fake.Options.Bind(new JsonObject { ["checkpoints"] = "log:0" }, "config file 'c.json'", []))!;
        Assert.That(grid.Message, Does.Contain("log:0"));
    }

    [Test]
    public void ARecipeRoundTripsThroughConfigJson()
    {
        var recipe = new FakeRecipe { Heads = 7, GapMean = 3, Range = new Interval(-0.5, 0.25), Widget = false };
        var json = RecipeOptions<FakeRecipe>.ToJson(recipe);
        Assert.That(json["range"]!.ToJsonString(), Is.EqualTo("[-0.5,0.25]"), "ranges are written as [min, max]");
        Assert.That(RecipeOptions<FakeRecipe>.FromJson(json, "x"), Is.EqualTo(recipe));
    }
}
