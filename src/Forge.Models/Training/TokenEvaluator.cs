using System.Numerics;
using Forge.Autograd;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Models.Training;

/// <summary>
/// Evaluates a token model on a fixed data set, batch by batch. The forward pass is recorded once
/// (with any interventions in <c>hooks</c>) and replayed on each batch, so evaluation allocates
/// nothing per batch. Statistics are accumulated in double precision.
/// </summary>
public sealed class TokenEvaluator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly FixedTokenDataset<T> _data;
    readonly TokenBatch<T> _batch;
    readonly Tape<T> _tape = new();
    readonly Var<T> _logits;
    readonly double[] _probabilities;
    readonly T[]? _hostLogits;   // device models: the logits copied back for the statistics

    public TokenEvaluator(Transformer<T> model, FixedTokenDataset<T> data, int batchSize, HookSet<T>? hooks = null)
    {
        _data = data;
        _batch = new TokenBatch<T>(Math.Min(batchSize, data.Count), data.Positions, model.Device);
        // Only the masked positions' logits are read: without hooks (which may look at every position) the model computes no others.
        using (_tape.Record()) _logits = model.Forward(_batch.Tokens, hooks, outputs: hooks is null ? _batch.Mask : null);
        _probabilities = new double[_logits.Size(-1)];
        if (model.Device is not CpuDevice) _hostLogits = new T[_logits.Data.Length];
    }

    /// <summary>Metrics over the whole data set, or over its first <paramref name="limit"/> sequences.</summary>
    public TokenMetrics Evaluate(int? limit = null)
    {
        var stats = new Accumulator(_probabilities.Length);
        int count = Math.Min(limit ?? _data.Count, _data.Count);
        for (int start = 0; start < count; start += _batch.BatchSize)
        {
            int rows = Math.Min(_data.FillInOrder(start, _batch), count - start);
            _batch.Upload();
            _tape.Replay();
            AccumulateBatch(ref stats, rows * _batch.Positions);
        }
        return stats.ToMetrics();
    }

    void AccumulateBatch(ref Accumulator stats, int positions)
    {
        ReadOnlySpan<T> logits;
        if (_hostLogits is null) logits = _logits.Data.AsSpan();
        else
        {
            _logits.Data.Storage.CopyToHost(_logits.Data.Offset, _hostLogits);
            logits = _hostLogits;
        }
        var targets = _batch.HostTargets.AsSpan();
        var mask = _batch.HostMask.AsSpan();
        int vocab = _probabilities.Length;
        for (int row = 0; row < positions; row++)
        {
            if (mask[row] == T.Zero) continue;
            int predicted = Softmax(logits.Slice(row * vocab, vocab));
            stats.Add(_probabilities, targets[row], predicted);
        }
    }

    /// <summary>Softmax of one row into <see cref="_probabilities"/> (double); returns the argmax.</summary>
    int Softmax(ReadOnlySpan<T> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        double max = double.CreateChecked(row[best]), sum = 0;
        for (int i = 0; i < row.Length; i++) sum += _probabilities[i] = Math.Exp(double.CreateChecked(row[i]) - max);
        for (int i = 0; i < row.Length; i++) _probabilities[i] /= sum;
        return best;
    }

    struct Accumulator(int vocab)
    {
        double _loss, _correct, _correctProbability, _entropy, _confidence;
        long _count;
        readonly long[] _binCount = new long[TokenMetrics.ReliabilityBins];
        readonly double[] _binConfidence = new double[TokenMetrics.ReliabilityBins], _binCorrect = new double[TokenMetrics.ReliabilityBins];

        public void Add(double[] p, int target, int predicted)
        {
            double pTarget = p[target], confidence = p[predicted], entropy = 0;
            for (int i = 0; i < vocab; i++) if (p[i] > 0) entropy -= p[i] * Math.Log(p[i]);
            _loss -= Math.Log(Math.Max(pTarget, double.Epsilon));
            bool right = predicted == target;
            _correct += right ? 1 : 0;
            _correctProbability += pTarget;
            _entropy += entropy;
            _confidence += confidence;
            _count++;
            int bin = Math.Min((int)(confidence * TokenMetrics.ReliabilityBins), TokenMetrics.ReliabilityBins - 1);
            _binCount[bin]++;
            _binConfidence[bin] += confidence;
            _binCorrect[bin] += right ? 1 : 0;
        }

        public readonly TokenMetrics ToMetrics()
        {
            double n = Math.Max(_count, 1);
            var bins = new ReliabilityBin[TokenMetrics.ReliabilityBins];
            for (int b = 0; b < bins.Length; b++)
            {
                double count = Math.Max(_binCount[b], 1);
                bins[b] = new ReliabilityBin((double)b / bins.Length, (double)(b + 1) / bins.Length, _binCount[b], _binConfidence[b] / count, _binCorrect[b] / count);
            }
            return new TokenMetrics(_loss / n, _correct / n, _correctProbability / n, _entropy / n, _confidence / n, _count, bins);
        }
    }
}
