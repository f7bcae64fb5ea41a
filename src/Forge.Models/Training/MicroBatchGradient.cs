using System.Numerics;
using Forge.Autograd;
using Forge.Kernels.Threading;

namespace Forge.Models.Training;

/// <summary>
/// One part of a batch (a micro-batch): which lanes can compute it and how many of the batch's loss terms it holds.
/// </summary>
/// <param name="Kind">Parts of one kind have the same shapes (say, the same number of rows), so a lane recorded for one of
/// them replays any of them.</param>
/// <param name="Terms">How many terms the part's mean runs over in the batch just filled (its masked positions, its rows; ≥ 0).
/// A part's weight is its terms over the batch's.</param>
public sealed record MicroBatch(int Kind, Func<double> Terms);

/// <summary>
/// A lane: a replica of the model with input buffers of its own, on which parts of one kind are computed one after
/// another — each part's data copied in, the lane's recorded tape replayed, its gradients read out.
/// </summary>
/// <param name="Parameters">The replica's parameters, in the order of the model's (values shared with it, gradients its own).</param>
/// <param name="Loss">Builds the scalar loss over the lane's buffers, a mean over its terms (called once, while recording).</param>
/// <param name="Load">Copies part c's data into the lane's buffers.</param>
public sealed record MicroBatchLane<T>(IReadOnlyList<Var<T>> Parameters, Func<Var<T>> Loss, Action<int> Load)
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
/// Lanes: the parts do not each get a replica. A lane (<see cref="MicroBatchLane{T}"/>) — a replica with input
/// buffers of its own and one recorded tape — computes one part after another: the part's rows are copied in, the tape
/// is replayed forward and backward, and the lane's parameter gradients go into the batch gradient. There are as many
/// lanes per kind of part as parts of it can run at once (one per thread), so the activations a step touches are a
/// lane's per core — a few MB that stay in the caches — instead of every part's (the sorting model's 16 parts held
/// ≈ 115 MB, streamed from memory every step). Parts' gradients are added in part order as soon as a part and every part
/// before it are done: straight from the lane when the part is next, else from a store where it waits.
/// </para>
/// <para>
/// What it computes: the batch loss Σ_c w_c·L_c and its gradient Σ_c w_c·∇L_c, where L_c is the mean
/// loss of part c and w_c its share of the batch's loss terms (<see cref="MicroBatch.Terms"/>): the same function and
/// gradient as one pass over the whole batch, summed in another order (so equal up to float rounding, not
/// bit-identical to K = 1). The parts and the summation order depend on K alone, never on which thread or lane
/// ran a part or how many threads there are, so a run's numbers do not depend on <c>--threads</c>.
/// A part with weight 0 (all of its rows padding) adds nothing. With one part the model itself is the
/// lane and nothing is summed: exactly a recorded tape's replay and backward.
/// </para>
/// Allocates nothing per step after the first (which records the lanes' tapes).
/// </summary>
public sealed unsafe class MicroBatchGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly IReadOnlyList<Var<T>> _parameters;
    readonly MicroBatch[] _parts;
    readonly Func<int, MicroBatchLane<T>> _newLane;
    readonly LanePool<Lane> _lanes;
    readonly double[] _weights, _partLoss;
    Tensor<T>[][]? _partGrads;         // part → its gradient, one tensor per parameter (several parts only)
    int[]? _waiting;                   // 1 while part c's gradient waits in its store to be added
    int _nextToAdd;                    // the next part whose gradient goes into the batch gradient (in part order)
    int _adding;                       // 1 while a thread adds gradients into the batch gradient
    Forge.Kernels.Backend<T> Backend { get; }
    readonly bool _parallel;

    /// <summary>A lane: its spec, its recorded tape and loss, its gradient buffers and seed.</summary>
    sealed class Lane(MicroBatchLane<T> spec, Tape<T> tape, Var<T> loss, Tensor<T> seed)
    {
        public readonly MicroBatchLane<T> Spec = spec;
        public readonly Tape<T> Tape = tape;
        public readonly Var<T> Loss = loss;
        public readonly Tensor<T>[] Grads = [.. spec.Parameters.Select(p => p.Grad)];
        public readonly Tensor<T> Seed = seed;
    }

    /// <param name="parameters">The model's parameters: they receive the batch gradient.</param>
    /// <param name="parts">The micro-batches, in the order their gradients are summed.</param>
    /// <param name="newLane">Builds a lane for the parts of part c's kind (called when one more is needed, on the calling
    /// thread). With one part, the lane's parameters must be <paramref name="parameters"/> themselves.</param>
    public MicroBatchGradient(IReadOnlyList<Var<T>> parameters, IReadOnlyList<MicroBatch> parts, Func<int, MicroBatchLane<T>> newLane)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentNullException.ThrowIfNull(newLane);
        if (parts.Count == 0) throw new ArgumentException("MicroBatchGradient: no micro-batches", nameof(parts));
        _parameters = parameters;
        _parts = [.. parts];
        _newLane = newLane;
        _lanes = new LanePool<Lane>([.. _parts.Select(p => p.Kind)], NewLane);
        _weights = new double[_parts.Length];
        _partLoss = new double[_parts.Length];
        var device = parameters.Count > 0 ? parameters[0].Data.Device : CpuDevice.Instance;
        Backend = Forge.Kernels.Backends.For<T>(device);
        // Kernels of a GPU queue share one stream: parts run one after the other there (and a GPU wants whole batches anyway).
        _parallel = device is CpuDevice && _parts.Length > 1;
    }

    /// <summary>The whole batch as one part on the model itself (nothing copied, nothing summed).</summary>
    public static MicroBatchGradient<T> Whole(IReadOnlyList<Var<T>> parameters, Func<Var<T>> loss) =>
        new(parameters, [new MicroBatch(0, static () => 1.0)], _ => new MicroBatchLane<T>(parameters, loss, static _ => { }));

    /// <summary>Number of micro-batches.</summary>
    public int Count => _parts.Length;

    /// <summary>Number of lanes recorded so far (each a replica with its activations).</summary>
    public int Lanes => _lanes.Count;

    /// <summary>
    /// Records one lane per kind of part on this thread (a step adds the lanes it can use: one per kind and thread it
    /// runs on, at most one per part), so a loss that is not a one-element value throws here. Steps record on their own
    /// first; call it to record before any step runs.
    /// </summary>
    public void Record() => RecordLanes(1);

    // Records the lanes missing for a step on `threads` threads; true if any was recorded now (its forward pass has just
    // run on its kind's first part).
    bool RecordLanes(int threads)
    {
        bool recorded = _lanes.Grow(threads);
        if (_parts.Length > 1 && _partGrads is null)
        {
            _partGrads = [.. _parts.Select(_ => _parameters.Select(p => new Tensor<T>(p.Shape, p.Data.Device)).ToArray())];
            _waiting = new int[_parts.Length];
        }
        return recorded;
    }

    Lane NewLane(int part)
    {
        var spec = _newLane(part);
        if (spec.Parameters.Count != _parameters.Count)
            throw new ArgumentException($"MicroBatchGradient: a lane has {spec.Parameters.Count} parameters, the model {_parameters.Count}");
        for (int i = 0; i < _parameters.Count; i++)
            if (!Forge.Shape.SameShape(spec.Parameters[i].ShapeSpan, _parameters[i].ShapeSpan))
                throw new ArgumentException($"MicroBatchGradient: parameter {i} ({_parameters[i].Name}) has another shape in a lane");
        if (_parts.Length == 1 && !spec.Parameters.SequenceEqual(_parameters))
            throw new ArgumentException("MicroBatchGradient: a single micro-batch must use the model's own parameters");
        spec.Load(part);
        var tape = new Tape<T>();
        Var<T> loss;
        using (tape.Record()) loss = spec.Loss();
        if (loss.Data.Length != 1) throw new ShapeException($"MicroBatchGradient: the loss has shape {Forge.Shape.Format(loss.Shape)}, not one element");
        tape.Seal();   // replayed from now on: sums pass their gradients through without copies
        return new Lane(spec, tape, loss, new Tensor<T>([], loss.Data.Device));
    }

    /// <summary>
    /// The forward pass of every part (recorded the first time, replayed after), for its loss. With one part this is
    /// all that runs before <see cref="Backward"/>, so a non-finite <see cref="Loss"/> can be refused before any
    /// gradient is computed. With several, a lane holds one part's activations at a time: call
    /// <see cref="ForwardBackward"/>, which runs each part's backward right after its forward (<see cref="Backward"/>
    /// would run the forward passes again).
    /// </summary>
    public void Forward()
    {
        ReadWeights();
        // One part: recording has just run the forward pass on the current data (hooks see one pass, as before lanes).
        bool recorded = RecordLanes(1);
        if (_parts.Length == 1)
        {
            if (!recorded) _lanes.First(0).Tape.Replay();   // the loss stays on the device until Loss() reads it
            return;
        }
        for (int c = 0; c < _parts.Length; c++)
        {
            var lane = _lanes.First(c);
            lane.Spec.Load(c);
            lane.Tape.Replay();
            _partLoss[c] = double.CreateChecked(lane.Loss.Data.First());
        }
    }

    /// <summary>
    /// Backward after <see cref="Forward"/>: the parameters' gradients become the batch gradient (overwritten). With
    /// several parts each part's forward runs again first (see <see cref="Forward"/>).
    /// </summary>
    public void Backward()
    {
        if (_parts.Length == 1)
        {
            var lane = _lanes.First(0);
            Backend.FillMany(lane.Grads, T.Zero);
            lane.Tape.Backward(lane.Loss);
            return;
        }
        ForwardBackward();
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
        if (_parts.Length == 1)
        {
            Forward();
            Backward();
            return;
        }
        ReadWeights();
        RecordLanes(_parallel ? ForkJoin.ThreadsHere : 1);
        Array.Clear(_waiting!);
        _nextToAdd = 0;
        if (_parallel) ForkJoin.For(_parts.Length, this, &RunParts, maxBlock: 1);   // a part is a long piece of work: claimed one at a time
        else RunParts(this, 0, _parts.Length);
        AddWaitingParts();
        if (_nextToAdd != _parts.Length) throw new InvalidOperationException($"MicroBatchGradient: {_parts.Length - _nextToAdd} parts' gradients were not added");
    }

    static void RunParts(MicroBatchGradient<T> self, int begin, int end)
    {
        for (int c = begin; c < end; c++) self.RunPart(c);
    }

    // Part c on a free lane of its kind: its rows in, forward, its loss read, backward seeded with its weight, its gradient
    // into the batch gradient (straight from the lane when it is the next part, else through its store).
    void RunPart(int c)
    {
        var grads = _partGrads![c];
        if (_weights[c] == 0)
        {
            // All padding: contributes nothing (its loss may be 0/0); its zeros are still added, as one pass's sum would.
            Backend.FillMany(grads, T.Zero);
            Volatile.Write(ref _waiting![c], 1);
            AddWaitingParts();
            return;
        }
        var slot = _lanes.Claim(c);
        var lane = slot.Lane;
        try
        {
            lane.Spec.Load(c);
            lane.Tape.Replay();
            _partLoss[c] = double.CreateChecked(lane.Loss.Data.First());
            Backend.FillMany(lane.Grads, T.Zero);
            Backend.Fill(lane.Seed, T.CreateChecked(_weights[c]));
            lane.Tape.Backward(lane.Loss, lane.Seed);
            // Only the thread that holds _adding advances _nextToAdd, and never past a part that is not done: if c is next
            // now, it stays next until this thread adds it.
            if (Volatile.Read(ref _nextToAdd) == c && Interlocked.CompareExchange(ref _adding, 1, 0) == 0)
            {
                AddPart(c, lane.Grads);
                Volatile.Write(ref _nextToAdd, c + 1);
                AddWaitingPartsAndRelease();
            }
            else
            {
                for (int i = 0; i < grads.Length; i++)
                    Backend.Copy(grads[i].ShapeSpan, lane.Grads[i], lane.Grads[i].StridesSpan, grads[i]);
                Volatile.Write(ref _waiting![c], 1);
                AddWaitingParts();
            }
        }
        finally { LanePool<Lane>.Release(slot); }
    }

    // The batch gradient: part 0's gradient, plus part 1's, plus …, in that order, per element, whichever thread adds which
    // part. Parts are added as soon as they and every part before them are done, one thread at a time (_adding).

    // Adds the parts that wait and are next, if no other thread is adding (that one will, see below).
    void AddWaitingParts()
    {
        while (Interlocked.CompareExchange(ref _adding, 1, 0) == 0)
            if (!AddWaitingPartsAndRelease()) return;
    }

    // Holding _adding: adds waiting parts in order, releases, and tells whether a part became next-and-waiting meanwhile
    // (its thread found _adding held and left it to the holder, so the caller must try again).
    bool AddWaitingPartsAndRelease()
    {
        int next = _nextToAdd;
        while (next < _parts.Length && Volatile.Read(ref _waiting![next]) == 1)
        {
            AddPart(next, _partGrads![next]);
            Volatile.Write(ref _nextToAdd, ++next);
        }
        Volatile.Write(ref _adding, 0);
        return next < _parts.Length && Volatile.Read(ref _waiting![next]) == 1;
    }

    void AddPart(int c, Tensor<T>[] grads)
    {
        for (int i = 0; i < grads.Length; i++)
        {
            var target = _parameters[i].Grad;
            if (c == 0) Backend.Copy(target.ShapeSpan, grads[i], grads[i].StridesSpan, target);
            else Backend.Axpy(T.One, grads[i], target);
        }
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

    /// <summary>The batch loss Σ_c w_c·L_c of the last forward pass, over the parts with a positive weight (read back from the device).</summary>
    public double Loss()
    {
        if (_parts.Length == 1) return double.CreateChecked(_lanes.First(0).Loss.Data.First());
        double loss = 0;
        for (int c = 0; c < _parts.Length; c++)
            if (_weights[c] > 0) loss += _weights[c] * _partLoss[c];
        return loss;
    }

    /// <summary>
    /// Loads part <paramref name="part"/> into a lane of its kind and returns that lane's tape and loss, for a profiler that
    /// replays parts one at a time (<see cref="TapeProfile"/>). Not while a step runs.
    /// </summary>
    public (Tape<T> Tape, Var<T> Loss) LoadPart(int part)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(part);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(part, _parts.Length);
        RecordLanes(1);
        var lane = _lanes.First(part);
        lane.Spec.Load(part);
        return (lane.Tape, lane.Loss);
    }
}
