using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Forge.Experiments.Framework;

/// <summary>
/// A closed range [Min, Max] of a sampled quantity (e.g. the coefficient a of an affine recurrence).
/// config.json writes it as a two-element array <c>[min, max]</c>; the command line as <c>MIN,MAX</c>.
/// </summary>
[JsonConverter(typeof(IntervalJsonConverter))]
public readonly record struct Interval(double Min, double Max)
{
    public double Width => Max - Min;

    public bool Contains(double value) => value >= Min && value <= Max;

    /// <summary>A uniform draw from [Min, Max) (Min itself when the interval is a point).</summary>
    public double Sample(Rng rng) => Min + (Max - Min) * rng.NextDouble();

    /// <summary>"MIN,MAX", as the command line takes it.</summary>
    public override string ToString() =>
        Min.ToString("R", CultureInfo.InvariantCulture) + "," + Max.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Parses "MIN,MAX"; false when the text is not two finite numbers with MIN ≤ MAX.</summary>
    public static bool TryParse(string text, out Interval interval)
    {
        interval = default;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 2
            || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double min)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double max)
            || !double.IsFinite(min) || !double.IsFinite(max) || min > max) return false;
        interval = new Interval(min, max);
        return true;
    }
}

/// <summary>Reads and writes an <see cref="Interval"/> as <c>[min, max]</c>; anything else is an error naming the expected form.</summary>
sealed class IntervalJsonConverter : JsonConverter<Interval>
{
    public override Interval Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected [min, max]");
        var values = new List<double>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number) throw new JsonException("expected [min, max] with two numbers");
            values.Add(reader.GetDouble());
        }
        if (values.Count != 2 || !(values[0] <= values[1]) || !double.IsFinite(values[0]) || !double.IsFinite(values[1]))
            throw new JsonException("expected [min, max] with two finite numbers and min ≤ max");
        return new Interval(values[0], values[1]);
    }

    public override void Write(Utf8JsonWriter writer, Interval value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(value.Min);
        writer.WriteNumberValue(value.Max);
        writer.WriteEndArray();
    }
}
