using System.Numerics;

namespace Forge.Autograd;

/// <summary>
/// The record of ops run while the tape was recording, in execution order. Backward walks it in
/// reverse — a recorded order is already a topological order, so no graph sort is needed.
/// <para>
/// Two ways to train with it. Eager: <see cref="Clear"/>, record a new forward pass, backward —
/// simple, but every step allocates new tensors. Replay: record the step once, then each step write
/// the new inputs into the input tensors, <see cref="Replay"/> (recompute every op into its existing
/// buffers) and backward again — no allocation at all (llm.c's static buffers, found automatically).
/// Replay requires the same shapes and the same control flow each step.
/// </para>
/// </summary>
public sealed class Tape<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [ThreadStatic] static Tape<T>? t_active;

    readonly List<Op<T>> _ops = [];
    bool _sealed;

    /// <summary>The tape ops record onto on this thread (null when none is recording).</summary>
    public static Tape<T>? Active => t_active;

    public IReadOnlyList<Op<T>> Ops => _ops;

    /// <summary>Makes this tape the active one until the returned scope is disposed.</summary>
    public RecordingScope Record()
    {
        var scope = new RecordingScope(t_active);
        t_active = this;
        return scope;
    }

    internal void Record(Op<T> op)
    {
        if (_sealed) throw new InvalidOperationException($"Tape: {op.Name} recorded on a sealed tape (its graph is fixed; record on a new tape)");
        _ops.Add(op);
    }

    /// <summary>Forgets every recorded op (their buffers become garbage) and unseals the tape.</summary>
    public void Clear()
    {
        _ops.Clear();
        _sealed = false;
    }

    /// <summary>True once <see cref="Seal"/> has fixed the recorded graph.</summary>
    public bool IsSealed => _sealed;

    /// <summary>
    /// Fixes the recorded graph — recording more ops throws — so that gradients can pass through sums without copies. The
    /// gradient of an addend is the sum's gradient itself (∂(a + b)/∂a = 1); when an intermediate is read by one sum and
    /// nothing else on the tape and has the sum's shape, its gradient buffer becomes the sum's (like a reshape's), and the
    /// sum's backward writes nothing for it: in a transformer, the embedding and each block's attention and MLP outputs,
    /// whose gradients would otherwise be copies of the residual stream's. Gradients keep their values and bits, and
    /// every intermediate still ends a backward pass holding its gradient. Call it once recording is done, before the
    /// first backward (a gradient already allocated is left as it is); replay-based training seals its tapes.
    /// </summary>
    public void Seal()
    {
        if (_sealed) return;
        _sealed = true;
        var recorded = new HashSet<Op<T>>(_ops, ReferenceEqualityComparer.Instance);
        var uses = new Dictionary<Var<T>, int>(ReferenceEqualityComparer.Instance);
        foreach (var op in _ops)
            foreach (var input in op.Inputs)
                uses[input] = uses.GetValueOrDefault(input) + 1;
        // Last op first: a sum whose own output passes through to a later sum shares that one's buffer already.
        for (int i = _ops.Count - 1; i >= 0; i--)
        {
            var op = _ops[i];
            if (!op.Output.RequiresGrad) continue;
            for (int index = 0; index < op.Inputs.Length; index++)
            {
                var input = op.Inputs[index];
                if (op.PassesGradientThrough(index) && input.Creator is not null && input.RequiresGrad && !input.HasGrad
                    && uses[input] == 1 && recorded.Contains(input.Creator) && Forge.Shape.SameShape(input.ShapeSpan, op.Output.ShapeSpan))
                    input.ShareGrad(op.Output.Grad, op.Output.GradState);
            }
        }
    }

    /// <summary>Recomputes every recorded op, in order, from the current contents of the input tensors.</summary>
    public void Replay()
    {
        foreach (var op in _ops) op.Forward();
    }

    /// <summary>
    /// Reverse-mode pass from <paramref name="output"/>: seeds its gradient with <paramref name="seed"/>
    /// (default: 1 for a one-element output — the usual scalar loss) and runs each op's backward in
    /// reverse order. Parameters (leaves) accumulate. Every recorded intermediate ends with its gradient
    /// of this pass (zero where nothing reached it): the first contribution overwrites its buffer instead
    /// of zeroing it all beforehand (<see cref="GradientState"/>). A seed other than ones gives a
    /// vector–Jacobian product seedᵀ·∂output/∂inputs.
    /// </summary>
    public void Backward(Var<T> output, Tensor<T>? seed = null)
    {
        int last = PrepareBackward(output, seed);
        for (int i = last; i >= 0; i--) BackwardOf(_ops[i]);
        FinishBackward(last);
    }

    /// <summary>Runs one op's backward, unless nothing reached its output's gradient in this pass (it would add zeros).</summary>
    internal static void BackwardOf(Op<T> op)
    {
        if (op.Output.RequiresGrad && !op.Output.GradIsFresh) op.Backward();
    }

    /// <summary>The last part of <see cref="Backward"/>: intermediates that nothing reached get a zero gradient, as if zeroed first.</summary>
    internal void FinishBackward(int last)
    {
        for (int i = 0; i <= last; i++)
        {
            var value = _ops[i].Output;
            if (value.RequiresGrad && value.TakeFresh()) value.ZeroGrad();
        }
    }

    /// <summary>
    /// The first part of <see cref="Backward"/>: marks the intermediate gradients up to
    /// <paramref name="output"/>'s op as holding nothing of this pass (allocating them the first time)
    /// and seeds <paramref name="output"/>'s gradient; returns that op's index on the tape.
    /// </summary>
    internal int PrepareBackward(Var<T> output, Tensor<T>? seed)
    {
        if (!output.RequiresGrad)
            throw new InvalidOperationException($"Backward: {output} does not require grad (no parameter reaches it, or it was computed under NoGrad)");
        int last = _ops.LastIndexOf(output.Creator!);
        if (last < 0) throw new InvalidOperationException($"Backward: {output} was not recorded on this tape");

        for (int i = 0; i <= last; i++)
            if (_ops[i].Output.RequiresGrad) _ops[i].Output.MarkGradFresh();
        SeedGradient(output, seed);
        output.TakeFresh();
        return last;
    }

    static void SeedGradient(Var<T> output, Tensor<T>? seed)
    {
        var grad = output.Grad;
        var backend = Forge.Kernels.Backends.For<T>(grad.Device);
        if (seed is null)
        {
            if (output.Data.Length != 1)
                throw new ShapeException($"Backward: output of shape {Forge.Shape.Format(output.Shape)} is not a scalar; pass a seed of the same shape");
            backend.Fill(grad, T.One);
            return;
        }
        if (!Forge.Shape.SameShape(seed.ShapeSpan, output.ShapeSpan)) throw new ShapeException("Backward", "seed and output shapes differ", seed.Shape, output.Shape);
        if (seed.Device == grad.Device) backend.Copy(seed.ShapeSpan, seed, seed.StridesSpan, grad);
        else grad.CopyFrom(seed);
    }

    public readonly struct RecordingScope(Tape<T>? previous) : IDisposable
    {
        public void Dispose() => t_active = previous;
    }
}
