using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Forge.Experiments.Cli;

/// <summary>
/// Builds options whose parse errors are one line naming the option and the offending value, e.g.
/// "invalid value 'abc' for --steps: expected an integer ≥ 1". Use these for experiment-specific
/// options too, so every command reports bad values the same way.
/// </summary>
public static class OptionFactory
{
    /// <summary>
    /// <c>--device NAME</c>: one of <see cref="DeviceCatalog.KnownNames"/> that this machine has; any other
    /// name is a one-line error saying which are available. The default is computed when needed.
    /// </summary>
    public static Option<string> Device(string description, Func<string> defaultName) => new("--device")
    {
        Description = description,
        HelpName = "NAME",
        DefaultValueFactory = _ => defaultName(),
        CustomParser = result =>
        {
            string name = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (DeviceCatalog.Problem(name) is { } problem) result.AddError(problem);
            return name;
        },
    };

    /// <summary>An integer option with a lower bound and a default.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int min = int.MinValue, int max = int.MaxValue) =>
        Number(name, description, defaultValue, min, max,
            (string s, out int v) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v), "an integer");

    /// <summary>A 64-bit unsigned integer option (seeds).</summary>
    public static Option<ulong> ULong(string name, string description, ulong defaultValue) =>
        Number(name, description, defaultValue, ulong.MinValue, ulong.MaxValue,
            (string s, out ulong v) => ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v), "a non-negative integer");

    /// <summary>A floating-point option (learning rates, weight decay) with an inclusive range.</summary>
    public static Option<double> Double(string name, string description, double defaultValue,
        double min = double.NegativeInfinity, double max = double.PositiveInfinity) =>
        Number(name, description, defaultValue, min, max,
            (string s, out double v) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v) && double.IsFinite(v),
            "a number");

    /// <summary>A string option restricted to <paramref name="choices"/> (one-line error listing them).</summary>
    public static Option<string> Choice(string name, string description, string defaultValue, params string[] choices)
    {
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.CustomParser = result =>
        {
            string token = SingleToken(result);
            if (choices.Contains(token)) return token;
            result.AddError($"invalid value '{token}' for {name}: expected one of {string.Join(", ", choices)}");
            return defaultValue;
        };
        return option;
    }

    /// <summary>
    /// A number that may also be "none of them": <paramref name="nullWord"/> (e.g. <c>uniform</c>, <c>auto</c>)
    /// stands for null. Parsed as text, so <c>--help</c> shows the real default, number or word; read the
    /// value with <see cref="ParseOptionalNumber"/>.
    /// </summary>
    public static Option<string> OptionalNumber(string name, string description, double? defaultValue, string nullWord,
        double min = double.NegativeInfinity, double max = double.PositiveInfinity, bool integer = false)
    {
        string defaultText = defaultValue is double d ? Format(d) : nullWord;
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => defaultText };
        string what = (integer ? "an integer" : "a number") + RangeText(min, max) + $" or '{nullWord}'";
        option.CustomParser = result =>
        {
            string token = SingleToken(result);
            if (token == nullWord) return token;
            bool parsed;
            double v;
            if (integer)
            {
                parsed = int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i);
                v = i;
            }
            else parsed = double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out v) && double.IsFinite(v);
            if (!parsed || v < min || v > max) result.AddError($"invalid value '{token}' for {name}: expected {what}");
            return token;
        };
        return option;
    }

    /// <summary>The value of an <see cref="OptionalNumber"/> option: null for the null word.</summary>
    public static double? ParseOptionalNumber(string text, string nullWord) =>
        text == nullWord ? null : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>A range <c>MIN,MAX</c> (both within [<paramref name="min"/>, <paramref name="max"/>], MIN ≤ MAX).</summary>
    public static Option<Framework.Interval> Interval(string name, string description, Framework.Interval defaultValue,
        double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        var option = new Option<Framework.Interval>(name) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = "MIN,MAX" };
        option.CustomParser = result =>
        {
            string token = SingleToken(result);
            if (!Framework.Interval.TryParse(token, out var interval) || interval.Min < min || interval.Max > max)
            {
                result.AddError($"invalid value '{token}' for {name}: expected MIN,MAX with MIN ≤ MAX{RangeText(min, max)}");
                return defaultValue;
            }
            return interval;
        };
        return option;
    }

    delegate bool TryParse<T>(string text, out T value);

    static Option<T> Number<T>(string name, string description, T defaultValue, T min, T max, TryParse<T> tryParse, string what)
        where T : struct, IComparable<T>
    {
        var option = new Option<T>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.CustomParser = result =>
        {
            string token = SingleToken(result);
            if (!tryParse(token, out T value))
            {
                result.AddError($"invalid value '{token}' for {name}: expected {what}{RangeText(min, max)}");
                return defaultValue;
            }
            if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
                result.AddError($"invalid value '{token}' for {name}: expected {what}{RangeText(min, max)}");
            return value;
        };
        return option;
    }

    static string RangeText<T>(T min, T max) where T : struct, IComparable<T>
    {
        bool hasMin = !IsExtreme(min), hasMax = !IsExtreme(max);
        if (hasMin && hasMax) return $" in [{Format(min)}, {Format(max)}]";
        if (hasMin) return $" ≥ {Format(min)}";
        if (hasMax) return $" ≤ {Format(max)}";
        return "";
    }

    static bool IsExtreme<T>(T value) => value switch
    {
        int i => i is int.MinValue or int.MaxValue,
        ulong u => u is ulong.MinValue or ulong.MaxValue,
        double d => double.IsInfinity(d),
        _ => false,
    };

    static string Format<T>(T value) => value is double d ? d.ToString("R", CultureInfo.InvariantCulture) : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";

    static string SingleToken(ArgumentResult result) =>
        result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
}
