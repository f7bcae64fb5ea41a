using System.Numerics;
using Forge.Autograd;
using Forge.Kernels.Threading;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Models.Training;

/// <summary>
/// Evaluates a token model on a fixed data set, batch by batch. The forward pass is recorded once
/// (with any interventions in <c>hooks</c>) and replayed on each batch, so evaluation allocates
/// nothing per batch. Statistics are accumulated in double precision.
/// <para>
/// On the CPU without hooks the batch is cut into parts of about <see cref="RowsPerPart"/> rows, each recorded on a
/// replica of the model (<see cref="Transformer{T}.SharingWeights"/>) and replayed on the cores in parallel, with its
/// data in that core's cache; and each scored row's statistics (a softmax, an entropy: exps and logs) are computed on
/// the cores too, then added up row by row in order. A row's logits do not depend on how the batch is cut, and the sums
/// run in the same order, so the metrics are the same to the last bit as one pass on one thread.
/// </para>
/// </summary>
public sealed unsafe class TokenEvaluator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rows (sequences × positions) per part of a batch on the CPU: a sorting part of 48 lists is ≈ 2 MB of activations.</summary>
    public const int RowsPerPart = 1024;

    readonly FixedTokenDataset<T> _data;
    readonly TokenBatch<T> _batch;
    readonly Tape<T>[] _tapes;
    readonly Var<T>[] _logits;                 // per part, in row order
    readonly (int Start, int Count)[] _slices; // the parts' sequences
    readonly int _vocab;
    readonly T[]? _hostLogits;   // device models: the logits copied back for the statistics
    readonly RowStatistics[] _rowStatistics;   // the batch's scored rows, in order

    public TokenEvaluator(Transformer<T> model, FixedTokenDataset<T> data, int batchSize, HookSet<T>? hooks = null)
    {
        _data = data;
        _batch = new TokenBatch<T>(Math.Min(batchSize, data.Count), data.Positions, model.Device);
        int parts = hooks is null && model.Device is CpuDevice
            ? MicroBatches.Count(_batch.BatchSize, Math.Max(1, RowsPerPart / data.Positions)) : 1;
        _slices = MicroBatches.Slices(_batch.BatchSize, parts);
        _tapes = new Tape<T>[parts];
        _logits = new Var<T>[parts];
        for (int c = 0; c < parts; c++)
        {
            var part = parts == 1 ? _batch : _batch.Rows(_slices[c].Start, _slices[c].Count);
            var replica = parts == 1 ? model : model.SharingWeights();
            _tapes[c] = new Tape<T>();
            // Only the masked positions' logits are read: without hooks (which may look at every position) the model computes no others.
            using (_tapes[c].Record()) _logits[c] = replica.Forward(part.Tokens, hooks, outputs: hooks is null ? part.Mask : null);
        }
        _vocab = _logits[0].Size(-1);
        if (model.Device is not CpuDevice) _hostLogits = new T[_logits[0].Data.Length];
        _rowStatistics = new RowStatistics[_batch.BatchSize * _batch.Positions];
    }

    /// <summary>Metrics over the whole data set, or over its first <paramref name="limit"/> sequences.</summary>
    public TokenMetrics Evaluate(int? limit = null)
    {
        var stats = new Accumulator();
        int count = Math.Min(limit ?? _data.Count, _data.Count);
        for (int start = 0; start < count; start += _batch.BatchSize)
        {
            int rows = Math.Min(_data.FillInOrder(start, _batch), count - start);
            _batch.Upload();
            if (_tapes.Length == 1) _tapes[0].Replay();
            else ForkJoin.For(_tapes.Length, this, &ReplayParts);
            AccumulateBatch(ref stats, rows * _batch.Positions);
        }
        return stats.ToMetrics();
    }

    void AccumulateBatch(ref Accumulator stats, int positions)
    {
        if (_hostLogits is not null) _logits[0].Data.Storage.CopyToHost(_logits[0].Data.Offset, _hostLogits);
        // Each scored row's statistics, on the cores; then their sums, row by row in order.
        ForkJoin.For(positions, this, &RowStatisticsOf, minBlock: 64);
        var mask = _batch.HostMask.AsSpan();
        for (int row = 0; row < positions; row++)
            if (mask[row] != T.Zero) stats.Add(_rowStatistics[row]);
    }

    /// <summary>The logits of batch row <paramref name="row"/> (sequence × position), in whichever part holds them.</summary>
    ReadOnlySpan<T> Logits(int row)
    {
        if (_hostLogits is not null) return _hostLogits.AsSpan(row * _vocab, _vocab);
        if (_tapes.Length == 1) return _logits[0].Data.AsSpan().Slice(row * _vocab, _vocab);
        int sequence = row / _batch.Positions, part = 0;
        while (sequence >= _slices[part].Start + _slices[part].Count) part++;
        int rowInPart = row - _slices[part].Start * _batch.Positions;
        return _logits[part].Data.AsSpan().Slice(rowInPart * _vocab, _vocab);
    }

    static void ReplayParts(TokenEvaluator<T> self, int begin, int end)
    {
        for (int c = begin; c < end; c++) self._tapes[c].Replay();
    }

    [ThreadStatic] static double[]? t_probabilities;

    static void RowStatisticsOf(TokenEvaluator<T> self, int begin, int end)
    {
        var mask = self._batch.HostMask.AsSpan();
        var targets = self._batch.HostTargets.AsSpan();
        var probabilities = t_probabilities is { } p && p.Length >= self._vocab ? p : t_probabilities = new double[self._vocab];
        for (int row = begin; row < end; row++)
            if (mask[row] != T.Zero) self._rowStatistics[row] = RowStatistics.Of(self.Logits(row), targets[row], probabilities.AsSpan(0, self._vocab));
    }

    /// <summary>One scored row's contribution: its softmax in double, the target's probability, the top one's, the entropy.</summary>
    readonly record struct RowStatistics(double LogTarget, double PTarget, double Confidence, double Entropy, bool Right)
    {
        public static RowStatistics Of(ReadOnlySpan<T> row, int target, Span<double> p)
        {
            int best = 0;
            for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
            double max = double.CreateChecked(row[best]), sum = 0;
            for (int i = 0; i < row.Length; i++) sum += p[i] = Math.Exp(double.CreateChecked(row[i]) - max);
            for (int i = 0; i < row.Length; i++) p[i] /= sum;
            double pTarget = p[target], confidence = p[best], entropy = 0;
            for (int i = 0; i < row.Length; i++) if (p[i] > 0) entropy -= p[i] * Math.Log(p[i]);
            return new RowStatistics(Math.Log(Math.Max(pTarget, double.Epsilon)), pTarget, confidence, entropy, best == target);
        }
    }

    struct Accumulator()
    {
        double _loss, _correct, _correctProbability, _entropy, _confidence;
        long _count;
        readonly long[] _binCount = new long[TokenMetrics.ReliabilityBins];
        readonly double[] _binConfidence = new double[TokenMetrics.ReliabilityBins], _binCorrect = new double[TokenMetrics.ReliabilityBins];

        public void Add(in RowStatistics row)
        {
            double confidence = row.Confidence;
            _loss -= row.LogTarget;
            bool right = row.Right;
            _correct += right ? 1 : 0;
            _correctProbability += row.PTarget;
            _entropy += row.Entropy;
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
