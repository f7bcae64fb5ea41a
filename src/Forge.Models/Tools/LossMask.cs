using System.Globalization;
using Forge.Models.Checkpoints;

namespace Forge.Models.Tools;

/// <summary>
/// The optional <c>loss_mask</c> of a token batch, read as one weight per next-token prediction. The
/// prediction made at position p (logits[b, p]) is scored against token p + 1, so a batch of
/// <c>tokens</c> [batch, pos] makes pos − 1 predictions per row. Two layouts are accepted, because
/// PyTorch code writes both (a mask built alongside the tokens, or one built alongside
/// <c>logits[:, :-1]</c>):
/// <list type="bullet">
/// <item>[batch, pos]: entry [b, p] weighs the prediction made at position p; the last column (the
/// last position, which predicts nothing) is ignored.</item>
/// <item>[batch, pos − 1]: entry [b, p] weighs the prediction made at position p, of token p + 1 — the
/// same entries without the last column, so both layouts give the same loss and gradients.</item>
/// </list>
/// Any other shape is an error naming the file, the tensor and both accepted shapes.
/// Dtypes and values (checked in every entry, the ignored column too: a bad value there means the
/// tensor is not the mask one thinks):
/// <list type="bullet">
/// <item>BOOL (PyTorch's <c>torch.bool</c>): true counts, false does not; a byte other than 0 or 1 is
/// invalid safetensors and an error.</item>
/// <item>Any integer dtype (<c>torch.long</c>, <c>torch.uint8</c>, …): 0 or 1 only. Another value is an
/// error rather than a weight: in an integer tensor it far more often means the wrong tensor (ids,
/// lengths, an ignore index) than an intended weight, and weights are written as floats.</item>
/// <item>Floating point (F16, BF16, F32, F64): weights, finite and ≥ 0; loss = Σ w·CE / Σ w. A negative
/// or non-finite weight is an error (the weighted mean would be meaningless).</item>
/// </list>
/// </summary>
public static class LossMask
{
    public const string Name = "loss_mask";

    /// <summary>
    /// The weights [rows, positions − 1] (row-major) for <c>tokens</c> [rows, positions], or null when
    /// <paramref name="batch"/> has no <c>loss_mask</c>. Problems are <see cref="CheckpointException"/>s
    /// naming the batch file.
    /// </summary>
    public static double[]? PerPrediction(SafeTensorsFile batch, int rows, int positions)
    {
        var entry = batch.Find(Name);
        if (entry is null) return null;
        int predictions = positions - 1;
        bool perPosition = entry.ShapeSpan.SequenceEqual([rows, positions]);
        if (!perPosition && !entry.ShapeSpan.SequenceEqual([rows, predictions]))
            throw new CheckpointException(batch.Source,
                $"tensor '{Name}' has shape {Shape.Format(entry.Shape)}; with 'tokens' [{rows}, {positions}] it must be " +
                $"[{rows}, {positions}] (one entry per position, the last ignored) or [{rows}, {predictions}] (one entry per prediction)");
        double[] values = Values(batch, entry);
        if (!perPosition) return values;
        var weights = new double[rows * predictions];
        for (int b = 0; b < rows; b++) values.AsSpan(b * positions, predictions).CopyTo(weights.AsSpan(b * predictions));
        return weights;
    }

    /// <summary>Every entry as a double, after the dtype's rule above.</summary>
    static double[] Values(SafeTensorsFile batch, SafeTensorsEntry entry)
    {
        int columns = entry.ShapeSpan[1];
        CheckpointException Bad(int index, string value, string rule) => new(batch.Source,
            $"tensor '{Name}' ({entry.DType}) element [{index / columns}, {index % columns}] is {value}; {rule}");
        const string zeroOrOne = "a bool or integer mask holds only 0 and 1 (write weights as a float mask)";

        if (entry.DType == SafeTensorsDType.BOOL)
        {
            var bytes = entry.Data;
            var flags = new double[bytes.Length];
            for (int i = 0; i < bytes.Length; i++)
                flags[i] = bytes[i] <= 1 ? bytes[i] : throw Bad(i, $"the byte {bytes[i]}", "a BOOL element must be 0 (false) or 1 (true)");
            return flags;
        }
        if (ElementCodec.IsInteger(entry.DType))
        {
            var integers = batch.GetInt64(Name).AsSpan();
            var flags = new double[integers.Length];
            for (int i = 0; i < integers.Length; i++)
                flags[i] = integers[i] is 0 or 1 ? integers[i] : throw Bad(i, integers[i].ToString(CultureInfo.InvariantCulture), zeroOrOne);
            return flags;
        }
        if (ElementCodec.IsFloatingPoint(entry.DType))
        {
            var weights = batch.GetDouble(Name).AsSpan().ToArray();
            for (int i = 0; i < weights.Length; i++)
                if (!double.IsFinite(weights[i]) || weights[i] < 0)
                    throw Bad(i, weights[i].ToString("R", CultureInfo.InvariantCulture), "a float mask holds weights, finite and ≥ 0");
            return weights;
        }
        throw new CheckpointException(batch.Source,
            $"tensor '{Name}' has dtype {entry.DType}; a loss mask is BOOL, an integer dtype (0 or 1) or a float dtype (weights ≥ 0)");
    }
}
