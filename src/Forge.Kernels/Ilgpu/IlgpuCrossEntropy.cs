using System.Numerics;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// Fused log-softmax + negative log-likelihood on an ILGPU device, with the conventions of
/// <see cref="CrossEntropy"/>: logits and probs are (n, vocab), targets, mask and rowLoss are (n), an
/// empty mask weighs every row 1, rows of weight 0 are ignored (their target is not read).
/// <para>
/// Two differences, both so that nothing waits for the device: the mean loss is written to the
/// one-element view <c>loss</c> instead of being returned, and targets are not validated on the host
/// (that would need a copy back). A counted row whose target is outside [0, vocab) gets a NaN row
/// loss — so the mean is NaN and the mistake shows — and no one-hot term in backward; memory outside
/// the row is never touched.
/// </para>
/// </summary>
public static class IlgpuCrossEntropy
{
    /// <summary>
    /// probs = softmax(logits) row by row (probs may be logits; rows of weight 0 get zeros), rowLoss[i] = the row's unweighted
    /// loss, loss[0] = Σ mask_i·rowLoss_i / Σ mask_i (0 when Σ mask = 0).
    /// </summary>
    public static void Forward<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> logits, ArrayView1D<int, Stride1D.Dense> targets,
        ArrayView1D<T, Stride1D.Dense> mask, ArrayView1D<T, Stride1D.Dense> probs, ArrayView1D<T, Stride1D.Dense> rowLoss,
        ArrayView1D<T, Stride1D.Dense> loss, int n, int vocab) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuCrossEntropy.Forward";
        CheckArguments(kernel, logits, nameof(logits), targets, mask, n, vocab);
        Check.AtLeast(kernel, nameof(probs), Views.Length(probs), (long)n * vocab, "n·vocab");
        Check.AtLeast(kernel, nameof(rowLoss), Views.Length(rowLoss), n, "n");
        Check.AtLeast(kernel, nameof(loss), Views.Length(loss), 1, "one element for the mean");
        Views.CheckType<T>(backend, kernel);
        var args = new CrossEntropyArgs<T>
        {
            Logits = logits, Targets = targets, Mask = mask, Probs = probs, RowLoss = rowLoss, Loss = loss, N = n, Vocab = vocab,
            RowCount = T.CreateChecked(n),
        };
        var kernels = backend.Kernels<Kernels<T>>();
        if (n > 0) kernels.ForwardRow(backend.Stream, new KernelConfig(n, backend.RowGroupSize), args);
        kernels.Mean(backend.Stream, new KernelConfig(1, backend.RowGroupSize), args);
    }

    /// <summary>
    /// dLogits[i, j] += dLoss·mask_i/Σ mask·(probs[i, j] − [j = targets[i]]), from Forward's probs; with
    /// <paramref name="accumulate"/> false dLogits is overwritten (masked rows with zeros; old contents never read).
    /// </summary>
    public static void Backward<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> probs, ArrayView1D<int, Stride1D.Dense> targets,
        ArrayView1D<T, Stride1D.Dense> mask, T dLoss, ArrayView1D<T, Stride1D.Dense> dLogits, int n, int vocab, bool accumulate = true)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Backward(backend, probs, targets, mask, dLoss, ArrayView1D<T, Stride1D.Dense>.Empty, dLogits, n, vocab, accumulate);

    /// <summary>
    /// As the other overload, with dLoss read on the device from <paramref name="dLoss"/>[0] (the loss's
    /// gradient as autodiff leaves it), so the backward pass never waits for the device.
    /// </summary>
    public static void Backward<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> probs, ArrayView1D<int, Stride1D.Dense> targets,
        ArrayView1D<T, Stride1D.Dense> mask, ArrayView1D<T, Stride1D.Dense> dLoss, ArrayView1D<T, Stride1D.Dense> dLogits, int n, int vocab,
        bool accumulate = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dLoss.Length < 1) throw new ArgumentException("IlgpuCrossEntropy.Backward: dLoss must hold one element.", nameof(dLoss));
        Backward(backend, probs, targets, mask, T.Zero, dLoss, dLogits, n, vocab, accumulate);
    }

    static void Backward<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> probs, ArrayView1D<int, Stride1D.Dense> targets,
        ArrayView1D<T, Stride1D.Dense> mask, T dLoss, ArrayView1D<T, Stride1D.Dense> dLossView, ArrayView1D<T, Stride1D.Dense> dLogits, int n, int vocab,
        bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuCrossEntropy.Backward";
        CheckArguments(kernel, probs, nameof(probs), targets, mask, n, vocab);
        Check.AtLeast(kernel, nameof(dLogits), Views.Length(dLogits), (long)n * vocab, "n·vocab");
        Views.CheckType<T>(backend, kernel);
        if (n == 0 || vocab == 0) return;
        var kernels = backend.Kernels<Kernels<T>>();
        // Σ mask lives on the device (the mask does); without a mask it is n.
        var weight = backend.Pool.Rent<T>(1);
        var args = new CrossEntropyArgs<T>
        {
            Probs = probs, Targets = targets, Mask = mask, DLogits = dLogits, Weight = weight.View, N = n, Vocab = vocab,
            RowCount = T.CreateChecked(n), DLoss = dLoss, DLossView = dLossView, Accumulate = accumulate ? 1 : 0,
        };
        kernels.Weight(backend.Stream, new KernelConfig(1, backend.RowGroupSize), args);
        kernels.BackwardRow(backend.Stream, new KernelConfig(n, backend.RowGroupSize), args);
        backend.Pool.Return(weight);   // later users are queued behind these kernels on the same stream
    }

    static void CheckArguments<T>(string kernel, ArrayView1D<T, Stride1D.Dense> input, string inputName,
        ArrayView1D<int, Stride1D.Dense> targets, ArrayView1D<T, Stride1D.Dense> mask, int n, int vocab) where T : unmanaged
    {
        Check.NonNegative(kernel, nameof(n), n);
        Check.NonNegative(kernel, nameof(vocab), vocab);
        Check.AtLeast(kernel, inputName, Views.Length(input), (long)n * vocab, "n·vocab");
        Check.AtLeast(kernel, nameof(targets), Views.Length(targets), n, "n");
        Check.EmptyOrAtLeast(kernel, nameof(mask), Views.Length(mask), n, "n, or empty for no mask");
    }

    sealed class Kernels<T> : IKernelSet<Kernels<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required Action<AcceleratorStream, KernelConfig, CrossEntropyArgs<T>> ForwardRow, Mean, Weight, BackwardRow;

        public static Kernels<T> Load(IlgpuBackend backend) => new()
        {
            ForwardRow = Load(backend, nameof(CrossEntropyKernels.ForwardRow)),
            Mean = Load(backend, nameof(CrossEntropyKernels.Mean)),
            Weight = Load(backend, nameof(CrossEntropyKernels.Weight)),
            BackwardRow = Load(backend, nameof(CrossEntropyKernels.BackwardRow)),
        };

        static Action<AcceleratorStream, KernelConfig, CrossEntropyArgs<T>> Load(IlgpuBackend backend, string name) =>
            KernelMethods.Grouped<T, CrossEntropyArgs<T>>(backend, typeof(CrossEntropyKernels), name);
    }
}

/// <summary>Arguments of the cross-entropy kernels. Mask empty = every row weighs 1.</summary>
internal struct CrossEntropyArgs<T> where T : unmanaged
{
    public ArrayView1D<T, Stride1D.Dense> Logits, Mask, Probs, RowLoss, Loss, DLogits, Weight;
    /// <summary>When not empty, dLoss is read from element 0 on the device instead of <see cref="DLoss"/>.</summary>
    public ArrayView1D<T, Stride1D.Dense> DLossView;
    public ArrayView1D<int, Stride1D.Dense> Targets;
    public int N, Vocab;
    public int Accumulate;   // backward: 1 adds to dLogits, 0 overwrites it
    public T RowCount, DLoss;
}

/// <summary>Device code of <see cref="IlgpuCrossEntropy"/>.</summary>
internal static class CrossEntropyKernels
{
    /// <summary>One group per row: softmax into Probs and the row's loss log Σ exp(x − max) − (x_target − max).</summary>
    internal static void ForwardRow<T, TSum, TMax>(CrossEntropyArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        int row = Grid.IdxX, vocab = s.Vocab;
        long start = (long)row * vocab;
        bool counted = s.Mask.Length == 0 || s.Mask[row] != T.Zero;
        if (!counted)
        {
            // An ignored row (the same for the whole group, so no barrier is skipped by part of it): no softmax, zeros.
            for (int j = Group.IdxX; j < vocab; j += Group.DimX) s.Probs[start + j] = T.Zero;
            if (Group.IdxX == 0) s.RowLoss[row] = T.Zero;
            return;
        }
        int target = s.Targets[row];
        bool valid = target >= 0 && target < vocab;
        // Read before the reductions' barriers: Probs may be Logits, overwritten below.
        T targetLogit = vocab > 0 ? s.Logits[start + (valid ? target : 0)] : T.Zero;
        T max = T.NegativeInfinity;
        for (int j = Group.IdxX; j < vocab; j += Group.DimX) max = T.Max(max, s.Logits[start + j]);
        max = DeterministicGroup.AllReduce<T, TMax>(max);
        T sum = T.Zero;
        for (int j = Group.IdxX; j < vocab; j += Group.DimX) sum += T.Exp(s.Logits[start + j] - max);
        sum = DeterministicGroup.AllReduce<T, TSum>(sum);
        for (int j = Group.IdxX; j < vocab; j += Group.DimX) s.Probs[start + j] = T.Exp(s.Logits[start + j] - max) / sum;
        if (Group.IdxX == 0)
            s.RowLoss[row] = valid ? T.Log(sum) - (targetLogit - max) : T.NaN;
    }

    /// <summary>Weight of row i: mask_i, or 1 without a mask.</summary>
    static T RowWeight<T>(CrossEntropyArgs<T> s, int row) where T : unmanaged, IFloatingPointIeee754<T> =>
        s.Mask.Length == 0 ? T.One : s.Mask[row];

    /// <summary>
    /// One group: Loss[0] = Σ w·rowLoss / Σ w. NaN row losses are counted instead of summed (the
    /// mean is then NaN): ILGPU's CPU emulator implements the group reduction with float
    /// compare-and-swap loops that never finish on a NaN.
    /// </summary>
    internal static void Mean<T, TSum, TMax>(CrossEntropyArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        T total = T.Zero, weight = T.Zero, nans = T.Zero;
        for (int i = Group.IdxX; i < s.N; i += Group.DimX)
        {
            T w = RowWeight(s, i), rowLoss = s.RowLoss[i];
            if (T.IsNaN(rowLoss)) nans += T.One;
            else total += s.Mask.Length == 0 ? rowLoss : w * rowLoss;
            weight += w;
        }
        total = DeterministicGroup.AllReduce<T, TSum>(total);
        nans = DeterministicGroup.AllReduce<T, TSum>(nans);
        weight = s.Mask.Length == 0 ? s.RowCount : DeterministicGroup.AllReduce<T, TSum>(weight);
        if (Group.IdxX == 0) s.Loss[0] = nans != T.Zero ? T.NaN : weight == T.Zero ? T.Zero : total / weight;
    }

    /// <summary>One group: Weight[0] = Σ mask (n without a mask).</summary>
    internal static void Weight<T, TSum, TMax>(CrossEntropyArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        T weight = T.Zero;
        for (int i = Group.IdxX; i < s.N; i += Group.DimX) weight += RowWeight(s, i);
        weight = s.Mask.Length == 0 ? s.RowCount : DeterministicGroup.AllReduce<T, TSum>(weight);
        if (Group.IdxX == 0) s.Weight[0] = weight;
    }

    /// <summary>One group per row: dLogits += dLoss·w_i/Σw·(probs − onehot(target)).</summary>
    internal static void BackwardRow<T, TSum, TMax>(CrossEntropyArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        int row = Grid.IdxX, vocab = s.Vocab;
        long start = (long)row * vocab;
        T weight = s.Weight[0];
        T dLoss = s.DLossView.Length > 0 ? s.DLossView[0] : s.DLoss;
        T scale = weight == T.Zero ? T.Zero : dLoss / weight * RowWeight(s, row);
        if (scale == T.Zero)
        {
            // Nothing flows into this row (masked, or every row masked): accumulating adds nothing, overwriting writes zeros.
            if (s.Accumulate == 0)
                for (int j = Group.IdxX; j < vocab; j += Group.DimX) s.DLogits[start + j] = T.Zero;
            return;
        }
        int target = s.Targets[row];
        for (int j = Group.IdxX; j < vocab; j += Group.DimX)
        {
            T g = scale * (j == target ? s.Probs[start + j] - T.One : s.Probs[start + j]);
            s.DLogits[start + j] = s.Accumulate != 0 ? s.DLogits[start + j] + g : g;
        }
    }
}
