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
/// On the CPU without hooks the batch is cut into parts of about <see cref="RowsPerPart"/> rows, computed on the cores
/// in parallel on lanes (<see cref="LanePool{TLane}"/>: a replica of the model per thread with a batch of its own, each
/// part's rows copied in, its activations staying in that core's cache); right after its forward pass each of a part's
/// scored rows gets its statistics (a softmax, an entropy: exps and logs), and the batch's are then added up row by row
/// in order. A row's logits do not depend on how the batch is cut, and the sums run in the same order, so the metrics
/// are the same to the last bit as one pass on one thread.
/// </para>
/// </summary>
public sealed unsafe class TokenEvaluator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rows (sequences × positions) per part of a batch on the CPU: a sorting part of 48 lists is ≈ 2 MB of activations.</summary>
    public const int RowsPerPart = 1024;

    readonly FixedTokenDataset<T> _data;
    readonly TokenBatch<T> _batch;
    readonly (int Start, int Count)[] _slices;   // the parts' sequences
    readonly TokenBatch<T>[]? _views;            // several parts: their rows of the batch
    readonly LanePool<Lane>? _lanes;             // several parts: the replicas that compute them
    readonly Tape<T>? _tape;                     // one part: the model's own pass over the whole batch
    readonly Var<T>? _logits;
    readonly int _vocab;
    readonly T[]? _hostLogits;   // device models: the logits copied back for the statistics
    readonly RowStatistics[] _rowStatistics;   // the batch's scored rows, in order

    /// <summary>A replica with a batch of its own of one part's size, and its recorded logits.</summary>
    sealed record Lane(TokenBatch<T> Batch, Tape<T> Tape, Var<T> Logits);

    public TokenEvaluator(Transformer<T> model, FixedTokenDataset<T> data, int batchSize, HookSet<T>? hooks = null)
    {
        _data = data;
        _batch = new TokenBatch<T>(Math.Min(batchSize, data.Count), data.Positions, model.Device);
        int parts = hooks is null && model.Device is CpuDevice
            ? MicroBatches.Count(_batch.BatchSize, Math.Max(1, RowsPerPart / data.Positions)) : 1;
        _slices = MicroBatches.Slices(_batch.BatchSize, parts);
        if (parts == 1)
        {
            _tape = new Tape<T>();
            // Only the masked positions' logits are read: without hooks (which may look at every position) the model computes no others.
            using (_tape.Record()) _logits = model.Forward(_batch.Tokens, hooks, outputs: hooks is null ? _batch.Mask : null);
            _vocab = _logits.Size(-1);
            if (model.Device is not CpuDevice) _hostLogits = new T[_logits.Data.Length];
        }
        else
        {
            _views = [.. _slices.Select(s => _batch.Rows(s.Start, s.Count))];
            _lanes = new LanePool<Lane>([.. _slices.Select(s => s.Count)], part =>
            {
                var batch = _batch.WithRows(_slices[part].Count);
                var replica = model.SharingWeights();
                var tape = new Tape<T>();
                using (tape.Record()) return new Lane(batch, tape, replica.Forward(batch.Tokens, outputs: batch.Mask));
            });
            _lanes.Grow(1);
            _vocab = _lanes.First(0).Logits.Size(-1);
        }
        _rowStatistics = new RowStatistics[_batch.BatchSize * _batch.Positions];
    }

    /// <summary>Metrics over the whole data set, or over its first <paramref name="limit"/> sequences.</summary>
    public TokenMetrics Evaluate(int? limit = null)
    {
        var stats = new Accumulator();
        int count = Math.Min(limit ?? _data.Count, _data.Count);
        _lanes?.Grow(ForkJoin.ThreadsHere);
        for (int start = 0; start < count; start += _batch.BatchSize)
        {
            int rows = Math.Min(_data.FillInOrder(start, _batch), count - start);
            _batch.Upload();
            if (_lanes is null)
            {
                _tape!.Replay();
                if (_hostLogits is not null) _logits!.Data.Storage.CopyToHost(_logits.Data.Offset, _hostLogits);
                // Each scored row's statistics, on the cores.
                ForkJoin.For(rows * _batch.Positions, this, &WholeBatchRows, minBlock: 64);
            }
            else ForkJoin.For(_slices.Length, this, &EvaluateParts, maxBlock: 1);
            // Their sums, row by row in order.
            var mask = _batch.HostMask.AsSpan();
            for (int row = 0; row < rows * _batch.Positions; row++)
                if (mask[row] != T.Zero) stats.Add(_rowStatistics[row]);
        }
        return stats.ToMetrics();
    }

    // ForkJoin body: rows [begin, end) of the batch, from the one pass over it.
    static void WholeBatchRows(TokenEvaluator<T> self, int begin, int end)
    {
        var logits = self._hostLogits is { } host ? host.AsSpan() : self._logits!.Data.AsSpan();
        self.Statistics(self._batch, logits, begin, end, 0);
    }

    // ForkJoin body: parts [begin, end), each on a lane: its rows copied in, its forward pass, its rows' statistics.
    static void EvaluateParts(TokenEvaluator<T> self, int begin, int end)
    {
        for (int c = begin; c < end; c++)
        {
            var slot = self._lanes!.Claim(c);
            try
            {
                var lane = slot.Lane;
                lane.Batch.CopyFrom(self._views![c]);
                lane.Tape.Replay();
                self.Statistics(lane.Batch, lane.Logits.Data.AsSpan(), 0, lane.Batch.BatchSize * lane.Batch.Positions, self._slices[c].Start * self._batch.Positions);
            }
            finally { LanePool<Lane>.Release(slot); }
        }
    }

    [ThreadStatic] static double[]? t_probabilities;

    // The statistics of rows [begin, end) of `batch` (whose logits are `logits`), stored at batch row `first` + row.
    void Statistics(TokenBatch<T> batch, ReadOnlySpan<T> logits, int begin, int end, int first)
    {
        var mask = batch.HostMask.AsSpan();
        var targets = batch.HostTargets.AsSpan();
        var probabilities = t_probabilities is { } p && p.Length >= _vocab ? p : t_probabilities = new double[_vocab];
        for (int row = begin; row < end; row++)
            if (mask[row] != T.Zero)
                _rowStatistics[first + row] = RowStatistics.Of(logits.Slice(row * _vocab, _vocab), targets[row], probabilities.AsSpan(0, _vocab));
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
