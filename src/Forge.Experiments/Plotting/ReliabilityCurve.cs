namespace Forge.Experiments.Plotting;

/// <summary>
/// A calibration curve: predictions grouped into equal-width confidence bins; for each non-empty bin
/// the mean confidence, the accuracy and the count. A calibrated model has accuracy = confidence.
/// </summary>
/// <param name="Label">Legend text (e.g. "full model", "head 1 ablated").</param>
/// <param name="Confidence">Mean confidence per non-empty bin.</param>
/// <param name="Accuracy">Fraction correct per non-empty bin.</param>
/// <param name="Counts">Predictions per non-empty bin.</param>
public sealed record ReliabilityCurve(string Label, double[] Confidence, double[] Accuracy, long[] Counts)
{
    /// <summary>Expected calibration error: Σ_bins (count/total)·|accuracy − confidence|.</summary>
    public double ExpectedCalibrationError
    {
        get
        {
            double total = 0, error = 0;
            for (int b = 0; b < Counts.Length; b++)
            {
                total += Counts[b];
                error += Counts[b] * Math.Abs(Accuracy[b] - Confidence[b]);
            }
            return total > 0 ? error / total : 0;
        }
    }

    /// <summary>
    /// Bins predictions by confidence (the probability of the predicted token) into
    /// <paramref name="bins"/> equal bins over [0, 1]; confidence 1 falls in the last bin.
    /// </summary>
    public static ReliabilityCurve FromPredictions(string label, ReadOnlySpan<double> confidence, ReadOnlySpan<bool> correct, int bins = 10)
    {
        if (confidence.Length != correct.Length)
            throw new ArgumentException($"ReliabilityCurve.FromPredictions: {confidence.Length} confidences and {correct.Length} outcomes.");
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var sumConfidence = new double[bins];
        var sumCorrect = new double[bins];
        var counts = new long[bins];
        for (int i = 0; i < confidence.Length; i++)
        {
            double p = Math.Clamp(confidence[i], 0, 1);
            int bin = Math.Min(bins - 1, (int)(p * bins));
            sumConfidence[bin] += p;
            sumCorrect[bin] += correct[i] ? 1 : 0;
            counts[bin]++;
        }
        var meanConfidence = new List<double>();
        var accuracy = new List<double>();
        var nonEmpty = new List<long>();
        for (int b = 0; b < bins; b++)
        {
            if (counts[b] == 0) continue;
            meanConfidence.Add(sumConfidence[b] / counts[b]);
            accuracy.Add(sumCorrect[b] / counts[b]);
            nonEmpty.Add(counts[b]);
        }
        return new ReliabilityCurve(label, meanConfidence.ToArray(), accuracy.ToArray(), nonEmpty.ToArray());
    }
}
