using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// Fused in-place optimizer updates on an ILGPU device, with the contracts of <see cref="Optimizers"/>
/// (torch.optim's single-tensor arithmetic; the scalars PyTorch computes in Python are computed here
/// in double on the host, exactly as the CPU kernels do). One thread per parameter.
/// </summary>
public static class IlgpuOptimizers
{
    /// <summary>
    /// SGD: g = grad + wd·p; with a momentum buffer buf = momentum·buf + g, g = buf; p −= lr·g.
    /// param, grad, momentumBuf are (n); momentumBuf empty for plain SGD.
    /// </summary>
    public static void Sgd<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> param, ArrayView1D<T, Stride1D.Dense> grad,
        ArrayView1D<T, Stride1D.Dense> momentumBuf, T lr, T momentum, T weightDecay) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuOptimizers.Sgd";
        Check.SameLength(kernel, nameof(grad), Views.Length(grad), nameof(param), Views.Length(param));
        if (momentumBuf.Length > 0) Check.SameLength(kernel, nameof(momentumBuf), Views.Length(momentumBuf), nameof(param), Views.Length(param));
        var args = new OptimizerArgs<T>
        {
            Param = param, Grad = grad, M = momentumBuf, LearningRate = lr, Momentum = momentum, WeightDecay = weightDecay,
            HasWeightDecay = weightDecay != T.Zero ? 1 : 0,
        };
        Launch(backend, kernel, sgd: true, args);
    }

    /// <summary>Adam with coupled L2 weight decay; see <see cref="Optimizers.Adam{T}"/>. param, grad, m, v are (n); step counts from 1.</summary>
    public static void Adam<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> param, ArrayView1D<T, Stride1D.Dense> grad,
        ArrayView1D<T, Stride1D.Dense> m, ArrayView1D<T, Stride1D.Dense> v, T lr, T beta1, T beta2, T eps, T weightDecay, int step)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        AdamCore(backend, "IlgpuOptimizers.Adam", decoupled: false, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);

    /// <summary>AdamW, decoupled weight decay; see <see cref="Optimizers.AdamW{T}"/>. param, grad, m, v are (n); step counts from 1.</summary>
    public static void AdamW<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> param, ArrayView1D<T, Stride1D.Dense> grad,
        ArrayView1D<T, Stride1D.Dense> m, ArrayView1D<T, Stride1D.Dense> v, T lr, T beta1, T beta2, T eps, T weightDecay, int step)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        AdamCore(backend, "IlgpuOptimizers.AdamW", decoupled: true, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);

    static void AdamCore<T>(IlgpuBackend backend, string kernel, bool decoupled, ArrayView1D<T, Stride1D.Dense> param,
        ArrayView1D<T, Stride1D.Dense> grad, ArrayView1D<T, Stride1D.Dense> m, ArrayView1D<T, Stride1D.Dense> v,
        T lr, T beta1, T beta2, T eps, T weightDecay, int step) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.SameLength(kernel, nameof(grad), Views.Length(grad), nameof(param), Views.Length(param));
        Check.SameLength(kernel, nameof(m), Views.Length(m), nameof(param), Views.Length(param));
        Check.SameLength(kernel, nameof(v), Views.Length(v), nameof(param), Views.Length(param));
        var args = AdamScalars(kernel, decoupled, lr, beta1, beta2, eps, weightDecay, step);
        (args.Param, args.Grad, args.M, args.V) = (param, grad, m, v);
        Launch(backend, kernel, sgd: false, args);
    }

    /// <summary>
    /// Adam with many tensors in few launches (<see cref="IlgpuMultiTensor"/>): bit-identical to <see cref="Adam{T}"/>
    /// or <see cref="AdamW{T}"/> on each (param, grad, m, v) in turn.
    /// </summary>
    public static void AdamMany<T>(IlgpuBackend backend, bool decoupled, ReadOnlySpan<ArrayView1D<T, Stride1D.Dense>> parameters,
        ReadOnlySpan<ArrayView1D<T, Stride1D.Dense>> grads, ReadOnlySpan<ArrayView1D<T, Stride1D.Dense>> m, ReadOnlySpan<ArrayView1D<T, Stride1D.Dense>> v,
        T lr, T beta1, T beta2, T eps, T weightDecay, int step) where T : unmanaged, IFloatingPointIeee754<T> =>
        IlgpuMultiTensor.Adam(backend, parameters, grads, m, v,
            AdamScalars(decoupled ? "IlgpuOptimizers.AdamW" : "IlgpuOptimizers.Adam", decoupled, lr, beta1, beta2, eps, weightDecay, step));

    /// <summary>The host-computed scalars of one Adam/AdamW step (the views left empty).</summary>
    internal static OptimizerArgs<T> AdamScalars<T>(string kernel, bool decoupled, T lr, T beta1, T beta2, T eps, T weightDecay, int step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (step < 1) throw new ArgumentException($"{kernel}: step is {step}; it counts from 1.", nameof(step));
        double lrD = double.CreateChecked(lr), beta1D = double.CreateChecked(beta1), beta2D = double.CreateChecked(beta2);
        double lerpWeight = 1 - beta1D;
        bool decays = weightDecay != T.Zero;
        return new OptimizerArgs<T>
        {
            LerpWeight = T.CreateChecked(lerpWeight),
            LerpComplement = T.One - T.CreateChecked(lerpWeight),
            LerpSmallWeight = Math.Abs(lerpWeight) < 0.5 ? 1 : 0,
            Beta2 = beta2,
            OneMinusBeta2 = T.CreateChecked(1 - beta2D),
            BiasCorrection2Sqrt = T.CreateChecked(Math.Pow(1 - Math.Pow(beta2D, step), 0.5)),
            NegativeStepSize = T.CreateChecked(-(lrD / (1 - Math.Pow(beta1D, step)))),
            Eps = eps,
            WeightDecay = weightDecay,
            // torch.optim skips the weight-decay arithmetic when wd = 0 (it matters for infinite p).
            HasWeightDecay = decays && !decoupled ? 1 : 0,
            HasDecoupledDecay = decays && decoupled ? 1 : 0,
            Decay = T.CreateChecked(1 - lrD * double.CreateChecked(weightDecay)),
        };
    }

    static void Launch<T>(IlgpuBackend backend, string kernel, bool sgd, OptimizerArgs<T> args) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Views.CheckType<T>(backend, kernel);
        long count = args.Param.Length;
        if (count == 0) return;
        if (count > int.MaxValue) throw new NotSupportedException($"{kernel}: {count} parameters in one launch.");
        var kernels = backend.Kernels<Kernels<T>>();
        (sgd ? kernels.Sgd : kernels.Adam)(backend.Stream, (int)count, args);
    }

    sealed class Kernels<T> : IKernelSet<Kernels<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required Action<AcceleratorStream, Index1D, OptimizerArgs<T>> Sgd, Adam;

        public static Kernels<T> Load(IlgpuBackend backend) => new()
        {
            Sgd = KernelMethods.Indexed<T, OptimizerArgs<T>>(backend, typeof(OptimizerKernels), nameof(OptimizerKernels.Sgd)),
            Adam = KernelMethods.Indexed<T, OptimizerArgs<T>>(backend, typeof(OptimizerKernels), nameof(OptimizerKernels.Adam)),
        };
    }
}

/// <summary>Arguments of the optimizer kernels (the host-computed scalars of <see cref="Optimizers"/>).</summary>
internal struct OptimizerArgs<T> where T : unmanaged
{
    public ArrayView1D<T, Stride1D.Dense> Param, Grad, M, V;
    public T LearningRate, Momentum, WeightDecay;
    public T LerpWeight, LerpComplement, Beta2, OneMinusBeta2, BiasCorrection2Sqrt, NegativeStepSize, Eps, Decay;
    public int LerpSmallWeight, HasWeightDecay, HasDecoupledDecay;
}

/// <summary>Device code of <see cref="IlgpuOptimizers"/>: the CPU kernels' scalar loops, one thread per parameter.</summary>
internal static class OptimizerKernels
{
    internal static void Sgd<T>(Index1D i, OptimizerArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T p = s.Param[i];
        T g = s.HasWeightDecay != 0 ? s.Grad[i] + s.WeightDecay * p : s.Grad[i];
        if (s.M.Length > 0)
        {
            g = s.M[i] * s.Momentum + g;
            s.M[i] = g;
        }
        s.Param[i] = p - s.LearningRate * g;
    }

    internal static void Adam<T>(Index1D i, OptimizerArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T> =>
        AdamAt(s.Param, s.Grad, s.M, s.V, i, s);

    /// <summary>One element's Adam/AdamW update with the scalars of <paramref name="s"/> (shared with <see cref="MultiTensorKernels.Adam{T}"/>).</summary>
    internal static void AdamAt<T>(ArrayView1D<T, Stride1D.Dense> param, ArrayView1D<T, Stride1D.Dense> grad, ArrayView1D<T, Stride1D.Dense> moment1,
        ArrayView1D<T, Stride1D.Dense> moment2, int i, OptimizerArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T p = param[i], g = grad[i], m = moment1[i];
        if (s.HasWeightDecay != 0) g += s.WeightDecay * p;
        if (s.HasDecoupledDecay != 0) p *= s.Decay;
        m = s.LerpSmallWeight != 0 ? m + s.LerpWeight * (g - m) : g - (g - m) * s.LerpComplement;   // lerp(m, g, 1 − β₁)
        T v = moment2[i] * s.Beta2 + s.OneMinusBeta2 * g * g;
        moment1[i] = m;
        moment2[i] = v;
        param[i] = p + s.NegativeStepSize * m / (T.Sqrt(v) / s.BiasCorrection2Sqrt + s.Eps);
    }
}
