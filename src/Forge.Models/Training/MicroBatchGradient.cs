using System.Numerics;
using Forge.Autograd;
using Forge.Kernels.Threading;

namespace Forge.Models.Training;

/// <summary>
/// One part of a batch: the loss of its rows, built on a replica of the model that has its own parameter
/// gradients, and how many of the batch's loss terms it holds.
/// </summary>
/// <param name="Parameters">The replica's parameters, in the order of the model's (values shared with it).</param>
/// <param name="Loss">Builds the part's scalar loss, a mean over its terms (called once while recording, then replayed).</param>
/// <param name="Terms">How many terms the part's mean runs over in the batch just filled (its masked positions, its rows; ≥ 0).
/// A part's weight is its terms over the batch's.</param>
public sealed record MicroBatch<T>(IReadOnlyList<Var<T>> Parameters, Func<Var<T>> Loss, Func<double> Terms)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// The loss of a batch and its gradient in the model's parameters, computed as K micro-batches.
/// <para>
/// Why: on the CPU a whole batch's activations (the sorting model's are 4 MB per tensor) do not fit in a
/// core's L2 cache, so every op streams its operands from L3 or memory, and ops too small to split well
/// leave the second core idle. Cut into parts of a few hundred rows, each part's forward and backward run
/// on one core with its data in that core's L2, the parts spread over the cores
/// (<see cref="ForkJoin"/>; the kernels inside a part run single-threaded), and the parts' parameter
/// gradients are summed.
/// </para>
/// <para>
/// What it computes: the batch loss Σ_c w_c·L_c and its gradient Σ_c w_c·∇L_c, where L_c is the mean
/// loss of part c and w_c its share of the batch's loss terms (<see cref="MicroBatch{T}.Terms"/>): the same function and
/// gradient as one pass over the whole batch, summed in another order (so equal up to float rounding, not
/// bit-identical to K = 1). The parts and the summation order depend on K alone, never on which thread
/// ran a part or how many threads there are, so a run's numbers do not depend on <c>--threads</c>.
/// A part with weight 0 (all of its rows padding) adds nothing. With one part the model itself is the
/// replica and nothing is summed: exactly a recorded tape's replay and backward.
/// </para>
/// Allocates nothing per step after the first (which records the parts' tapes).
/// </summary>
public sealed unsafe class MicroBatchGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly IReadOnlyList<Var<T>> _parameters;
    readonly MicroBatch<T>[] _parts;
    readonly Tape<T>[] _tapes;
    readonly Var<T>?[] _losses;
    readonly Tensor<T>[] _seeds;
    readonly double[] _weights;
    readonly Tensor<T>[]?[] _grads;   // each part's parameter gradients, for one FillMany
    Forge.Kernels.Backend<T> Backend { get; }
    readonly bool _parallel;

    /// <param name="parameters">The model's parameters: they receive the batch gradient.</param>
    /// <param name="parts">The micro-batches; with one, its parameters must be <paramref name="parameters"/> themselves.</param>
    public MicroBatchGradient(IReadOnlyList<Var<T>> parameters, IReadOnlyList<MicroBatch<T>> parts)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parts.Count == 0) throw new ArgumentException("MicroBatchGradient: no micro-batches", nameof(parts));
        foreach (var part in parts)
        {
            if (part.Parameters.Count != parameters.Count)
                throw new ArgumentException($"MicroBatchGradient: a micro-batch has {part.Parameters.Count} parameters, the model {parameters.Count}", nameof(parts));
            for (int i = 0; i < parameters.Count; i++)
                if (!Forge.Shape.SameShape(part.Parameters[i].ShapeSpan, parameters[i].ShapeSpan))
                    throw new ArgumentException($"MicroBatchGradient: parameter {i} ({parameters[i].Name}) has another shape in a micro-batch", nameof(parts));
        }
        if (parts.Count == 1 && !parts[0].Parameters.SequenceEqual(parameters))
            throw new ArgumentException("MicroBatchGradient: a single micro-batch must use the model's own parameters", nameof(parts));
        _parameters = parameters;
        _parts = [.. parts];
        _tapes = _parts.Select(_ => new Tape<T>()).ToArray();
        _losses = new Var<T>?[_parts.Length];
        _weights = new double[_parts.Length];
        var device = parameters.Count > 0 ? parameters[0].Data.Device : CpuDevice.Instance;
        _seeds = _parts.Select(_ => new Tensor<T>([], device)).ToArray();
        _grads = new Tensor<T>[]?[_parts.Length];
        Backend = Forge.Kernels.Backends.For<T>(device);
        // Kernels of a GPU queue share one stream: parts run one after the other there (and a GPU wants whole batches anyway).
        _parallel = device is CpuDevice && _parts.Length > 1;
    }

    /// <summary>The whole batch as one part on the model itself (no replicas, nothing summed).</summary>
    public static MicroBatchGradient<T> Whole(IReadOnlyList<Var<T>> parameters, Func<Var<T>> loss) =>
        new(parameters, [new MicroBatch<T>(parameters, loss, static () => 1.0)]);

    /// <summary>Number of micro-batches.</summary>
    public int Count => _parts.Length;

    /// <summary>The recorded tape of part <paramref name="part"/> (null before the first <see cref="Forward"/>).</summary>
    public Tape<T>? Tape(int part) => _losses[part] is null ? null : _tapes[part];

    /// <summary>The loss variable of part <paramref name="part"/> (null before the first <see cref="Forward"/>).</summary>
    public Var<T>? PartLoss(int part) => _losses[part];

    /// <summary>
    /// The forward pass of every part (recorded the first time, replayed after). With one part this is
    /// all that runs before <see cref="Backward"/>, so a non-finite <see cref="Loss"/> can be refused
    /// before any gradient is computed; with several, call <see cref="ForwardBackward"/>, which runs each
    /// part's backward right after its forward while its activations are in cache.
    /// </summary>
    public void Forward()
    {
        ReadWeights();
        for (int c = 0; c < _parts.Length; c++) ForwardPart(c);
    }

    /// <summary>Backward of every part after <see cref="Forward"/>: the parameters' gradients become the batch gradient (overwritten).</summary>
    public void Backward()
    {
        for (int c = 0; c < _parts.Length; c++) BackwardPart(c);
        Reduce();
    }

    /// <summary>
    /// The batch's loss and, when it is finite, its gradient in the parameters — what a training or sampling
    /// step needs. With one part the loss is read between forward and backward, so a non-finite loss stops
    /// before any gradient is computed; with several, each part's backward follows its forward
    /// (<see cref="ForwardBackward"/>) and the gradients of a non-finite loss must not be used. Returns
    /// whether the loss is finite.
    /// </summary>
    public bool TryLossAndGradient(out double loss)
    {
        if (_parts.Length == 1)
        {
            Forward();
            loss = Loss();
            if (!double.IsFinite(loss)) return false;
            Backward();
            return true;
        }
        ForwardBackward();
        loss = Loss();
        return double.IsFinite(loss);
    }

    /// <summary>
    /// Forward and backward of every part, on the cores in parallel when there are several parts on the
    /// CPU; the parameters' gradients become the batch gradient (overwritten). When <see cref="Loss"/> is
    /// then not finite, the gradients are whatever the parts produced and must not be used.
    /// </summary>
    public void ForwardBackward()
    {
        ReadWeights();
        if (_parts.Length == 1 || !_parallel || _losses[0] is null)
        {
            // One part, a GPU, or the first step (recording allocates and uses the thread's active tape): in order, here.
            for (int c = 0; c < _parts.Length; c++) { ForwardPart(c); BackwardPart(c); }
        }
        else ForkJoin.For(_parts.Length, this, &RunParts);
        Reduce();
    }

    static void RunParts(MicroBatchGradient<T> self, int begin, int end)
    {
        for (int c = begin; c < end; c++) { self.ForwardPart(c); self.BackwardPart(c); }
    }

    // w_c = terms_c / Σ terms; a batch without terms (its loss is 0/0 in one pass too) splits evenly.
    void ReadWeights()
    {
        double total = 0;
        for (int c = 0; c < _parts.Length; c++)
        {
            double terms = _parts[c].Terms();
            if (!(terms >= 0) || double.IsInfinity(terms)) throw new InvalidOperationException($"MicroBatchGradient: micro-batch {c} holds {terms} loss terms");
            _weights[c] = terms;
            total += terms;
        }
        for (int c = 0; c < _parts.Length; c++) _weights[c] = total > 0 ? _weights[c] / total : 1.0 / _parts.Length;
    }

    void ForwardPart(int c)
    {
        if (_losses[c] is null)
        {
            using (_tapes[c].Record()) _losses[c] = _parts[c].Loss();
            if (_losses[c]!.Data.Length != 1) throw new ShapeException($"MicroBatchGradient: micro-batch {c}'s loss is not a scalar");
        }
        else _tapes[c].Replay();
    }

    void BackwardPart(int c)
    {
        Backend.FillMany(_grads[c] ??= _parts[c].Parameters.Select(p => p.Grad).ToArray(), T.Zero);
        if (_weights[c] == 0) return;   // all padding: contributes nothing (its loss may be 0/0)
        if (_parts.Length == 1) { _tapes[c].Backward(_losses[c]!); return; }
        Backend.Fill(_seeds[c], T.CreateChecked(_weights[c]));
        _tapes[c].Backward(_losses[c]!, _seeds[c]);
    }

    /// <summary>The batch loss Σ_c w_c·L_c of the last forward pass, over the parts with a positive weight (read back from the device).</summary>
    public double Loss()
    {
        if (_parts.Length == 1) return double.CreateChecked(_losses[0]!.Data.First());
        double loss = 0;
        for (int c = 0; c < _parts.Length; c++)
            if (_weights[c] > 0) loss += _weights[c] * double.CreateChecked(_losses[c]!.Data.First());
        return loss;
    }

    // The batch gradient: part 0's gradient plus part 1's plus …, in that order, per parameter.
    void Reduce()
    {
        if (_parts.Length == 1) return;
        if (_parallel) ForkJoin.For(_parameters.Count, this, &ReduceParameters);
        else ReduceRange(0, _parameters.Count);
    }

    static void ReduceParameters(MicroBatchGradient<T> self, int begin, int end) => self.ReduceRange(begin, end);

    void ReduceRange(int begin, int end)
    {
        for (int i = begin; i < end; i++)
        {
            var target = _parameters[i].Grad;
            var first = _parts[0].Parameters[i].Grad;
            Backend.Copy(first.ShapeSpan, first, first.StridesSpan, target);
            for (int c = 1; c < _parts.Length; c++) Backend.Axpy(T.One, _parts[c].Parameters[i].Grad, target);
        }
    }
}
