using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Forge.Experiments.Cli;

namespace Forge.Experiments.Framework;

/// <summary>
/// The command-line options of a recipe record, generated from its <see cref="SettingAttribute"/>
/// properties, and the recipe they describe. Every source of settings goes through the same JSON
/// object — the record's defaults, then a <c>--config</c> file (a run's own config.json included),
/// then the options given on the command line — so an option, a config key and a config.json entry
/// can never mean different things.
/// </summary>
public sealed class RecipeOptions<TRecipe> where TRecipe : Recipe, new()
{
    readonly List<RecipeSetting> _settings;

    public RecipeOptions()
    {
        var defaults = ToJson(new TRecipe());
        _settings = typeof(TRecipe).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<SettingAttribute>() is not null)
            .OrderBy(p => InheritanceDistance(p.DeclaringType!))   // the paper's own settings first in --help, then the shared ones
            .ThenBy(p => p.MetadataToken)
            .Select(p => RecipeSetting.For(p, p.GetCustomAttribute<SettingAttribute>()!, defaults))
            .ToList();
    }

    static int InheritanceDistance(Type declaring)
    {
        int distance = 0;
        for (var type = typeof(TRecipe); type is not null && type != declaring; type = type.BaseType) distance++;
        return distance;
    }

    /// <summary>One generated option per setting, in --help order.</summary>
    public IReadOnlyList<RecipeSetting> Settings => _settings;

    /// <summary>The config.json keys of the recipe.</summary>
    public IReadOnlyCollection<string> Keys => _settings.Select(s => s.Key).ToList();

    public void AddTo(Command command)
    {
        foreach (var setting in _settings) command.Options.Add(setting.Option);
    }

    /// <summary>The settings given explicitly on the command line, as config keys with their values.</summary>
    public JsonObject Explicit(ParseResult parse)
    {
        var given = new JsonObject();
        foreach (var setting in _settings)
            if (parse.GetResult(setting.Option) is { Implicit: false }) given[setting.Key] = setting.ValueOf(parse);
        return given;
    }

    /// <summary>
    /// The recipe: defaults, then the keys of <paramref name="config"/> (a --config file; the common
    /// keys such as seed are not recipe settings and are skipped), then <paramref name="explicitSettings"/>.
    /// Unknown keys, wrong types and invalid values are a <see cref="UsageException"/> naming them.
    /// </summary>
    public TRecipe Bind(JsonObject? config, string? configSource, JsonObject explicitSettings)
    {
        var json = ToJson(new TRecipe());
        if (config is not null)
            foreach (var (key, value) in config)
            {
                if (CommonSettings.ConfigKeys.Contains(key)) continue;
                if (!json.ContainsKey(key))
                    throw new UsageException($"{configSource}: unknown setting '{key}' (known: {string.Join(", ", Keys)})");
                json[key] = value?.DeepClone();
            }
        foreach (var (key, value) in explicitSettings) json[key] = value?.DeepClone();
        return FromJson(json, configSource);
    }

    /// <summary>A recipe from a JSON object of settings (snake_case keys), validated.</summary>
    /// <param name="source">Where the settings come from, for messages ("config file 'x.json'"); null: the command line.</param>
    public static TRecipe FromJson(JsonObject json, string? source)
    {
        string prefix = source is null ? "" : source + ": ";
        TRecipe recipe;
        try { recipe = json.Deserialize<TRecipe>(RunJson.StrictOptions) ?? throw new UsageException($"{prefix}no settings"); }
        catch (JsonException e)
        {
            string key = e.Path?.TrimStart('$', '.') ?? "?";
            throw new UsageException($"{prefix}invalid value for '{key}': {FirstSentence(e.Message)}", e);
        }
        try { recipe.Validate(); }
        catch (ArgumentException e) { throw new UsageException(prefix + e.Message, e); }
        return recipe;
    }

    /// <summary>A recipe as config.json writes it: every setting under its snake_case key.</summary>
    public static JsonObject ToJson(TRecipe recipe) =>
        JsonSerializer.SerializeToNode(recipe, RunJson.WriteOptions)!.AsObject();

    static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }
}

/// <summary>One setting of a recipe: its config key, its generated option, and how a parsed value becomes JSON.</summary>
public sealed class RecipeSetting
{
    RecipeSetting(string key, Option option, Func<ParseResult, JsonNode?> value, JsonNode? defaultValue)
        => (Key, Option, _value, Default) = (key, option, value, defaultValue);

    readonly Func<ParseResult, JsonNode?> _value;

    /// <summary>The config.json key (snake_case of the property).</summary>
    public string Key { get; }
    /// <summary>The option, with the recipe's default and the setting's description.</summary>
    public Option Option { get; }
    /// <summary>The default as config.json writes it.</summary>
    public JsonNode? Default { get; }

    /// <summary>The parsed value as config.json writes it.</summary>
    public JsonNode? ValueOf(ParseResult parse) => _value(parse);

    internal static RecipeSetting For(PropertyInfo property, SettingAttribute setting, JsonObject defaults)
    {
        string key = JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);
        string name = setting.Option ?? "--" + JsonNamingPolicy.KebabCaseLower.ConvertName(property.Name);
        var type = property.PropertyType;
        var defaultNode = defaults[key];
        object? defaultValue = defaultNode?.Deserialize(type, RunJson.WriteOptions);
        var (option, read) = Generate(property, setting, name, type, defaultValue);
        if (setting.HelpName is { } helpName && option is not Option<bool>) option.HelpName = helpName;
        return new RecipeSetting(key, option, read, defaultNode?.DeepClone());
    }

    static (Option, Func<ParseResult, JsonNode?>) Generate(PropertyInfo property, SettingAttribute setting, string name, Type type, object? defaultValue)
    {
        string description = setting.Description;
        if (type == typeof(bool))
        {
            if (setting.Negated != (bool)defaultValue!)
                throw new InvalidOperationException($"{property.DeclaringType!.Name}.{property.Name}: a bool setting is a flag that changes the default; mark it Negated exactly when it defaults to true.");
            var flag = new Option<bool>(name) { Description = description };
            return (flag, p => JsonValue.Create(setting.Negated ? !p.GetValue(flag) : p.GetValue(flag)));
        }
        if (type == typeof(int))
        {
            var integer = OptionFactory.Int(name, description, (int)defaultValue!, IntBound(setting.Min, int.MinValue), IntBound(setting.Max, int.MaxValue));
            return (integer, p => JsonValue.Create(p.GetValue(integer)));
        }
        if (type == typeof(double))
        {
            var number = OptionFactory.Double(name, description, (double)defaultValue!, setting.Min, setting.Max);
            return (number, p => JsonValue.Create(p.GetValue(number)));
        }
        if (type == typeof(string))
        {
            var text = new Option<string>(name) { Description = description, DefaultValueFactory = _ => (string)defaultValue! };
            return (text, p => JsonValue.Create(p.GetValue(text)));
        }
        if ((type == typeof(double?) || type == typeof(int?)) && setting.NullWord is { } nullWord)
        {
            bool integer = type == typeof(int?);
            var optional = OptionFactory.OptionalNumber(name, description, defaultValue is null ? null : Convert.ToDouble(defaultValue, CultureInfo.InvariantCulture),
                nullWord, setting.Min, setting.Max, integer);
            return (optional, p => OptionFactory.ParseOptionalNumber(p.GetValue(optional)!, nullWord) is double v
                ? (integer ? JsonValue.Create((int)v) : JsonValue.Create(v)) : null);
        }
        if (type == typeof(Interval))
        {
            var interval = OptionFactory.Interval(name, description, (Interval)defaultValue!, setting.Min, setting.Max);
            return (interval, p => JsonSerializer.SerializeToNode(p.GetValue(interval), RunJson.WriteOptions));
        }
        throw new InvalidOperationException($"{property.DeclaringType!.Name}.{property.Name}: settings of type {type.Name} are not supported " +
                                            "(int, double, bool, string, Interval, or a nullable number with a NullWord).");
    }

    static int IntBound(double bound, int extreme) => double.IsInfinity(bound) ? extreme : (int)bound;
}
