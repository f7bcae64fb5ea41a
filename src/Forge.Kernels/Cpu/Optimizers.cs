using System.Numerics;
using System.Runtime.Intrinsics;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

/// <summary>
/// Fused in-place optimizer updates over flat parameter spans, following torch.optim's
/// single-tensor implementations operation by operation. Reference versions:
/// <see cref="OptimizersReference"/>.
/// <para>
/// Scalars that PyTorch computes in Python (1 − β, bias corrections, step size, 1 − lr·wd) are
/// computed here in double from the given hyperparameters and then rounded to T, as PyTorch does.
/// One difference remains for float: the hyperparameters arrive as T, so β₁ = 0.9f is the float
/// nearest 0.9 and 1 − β₁ is off from PyTorch's (float)(1 − 0.9) by ~2e-7 relative. Long spans are
/// split into chunks that run on <see cref="ForkJoin"/>.
/// </para>
/// </summary>
public static unsafe class Optimizers
{
    /// <summary>
    /// SGD with optional momentum and coupled weight decay (torch.optim.SGD, dampening 0, no Nesterov):
    /// g = grad + wd·p;  with a momentum buffer: buf = momentum·buf + g, g = buf;  p = p − lr·g.
    /// param, grad and momentumBuf are (n); momentumBuf must start at zeros (PyTorch's first step sets
    /// buf = g, which is what momentum·0 + g gives), or be empty for plain SGD.
    /// </summary>
    public static void Sgd<T>(Span<T> param, ReadOnlySpan<T> grad, Span<T> momentumBuf, T lr, T momentum, T weightDecay)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "Optimizers.Sgd";
        Check.SameLength(kernel, nameof(grad), grad.Length, nameof(param), param.Length);
        if (!momentumBuf.IsEmpty) Check.SameLength(kernel, nameof(momentumBuf), momentumBuf.Length, nameof(param), param.Length);
        var state = new State<T>
        {
            Kind = UpdateKind.Sgd, LearningRate = lr, Momentum = momentum, WeightDecay = weightDecay,
            HasWeightDecay = weightDecay != T.Zero,
        };
        Run(ref state, param, grad, momentumBuf, default);
    }

    /// <summary>
    /// Adam with coupled L2 weight decay (torch.optim.Adam), t = <paramref name="step"/> (1-based):
    /// <code>
    /// g = grad + wd·p
    /// m = lerp(m, g, 1 − β₁)                 (m + (1 − β₁)(g − m))
    /// v = β₂·v + (1 − β₂)·g²
    /// p = p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
    /// </code>
    /// param, grad, m, v are (n); m and v start at zeros.
    /// </summary>
    public static void Adam<T>(Span<T> param, ReadOnlySpan<T> grad, Span<T> m, Span<T> v,
        T lr, T beta1, T beta2, T eps, T weightDecay, int step)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        AdamCore(UpdateKind.Adam, "Optimizers.Adam", param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);

    /// <summary>
    /// AdamW, decoupled weight decay (torch.optim.AdamW), t = <paramref name="step"/> (1-based):
    /// <code>
    /// p = p·(1 − lr·wd)
    /// m = lerp(m, grad, 1 − β₁);  v = β₂·v + (1 − β₂)·grad²
    /// p = p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
    /// </code>
    /// param, grad, m, v are (n); m and v start at zeros.
    /// </summary>
    public static void AdamW<T>(Span<T> param, ReadOnlySpan<T> grad, Span<T> m, Span<T> v,
        T lr, T beta1, T beta2, T eps, T weightDecay, int step)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        AdamCore(UpdateKind.AdamW, "Optimizers.AdamW", param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);

    static void AdamCore<T>(UpdateKind kind, string kernel, Span<T> param, ReadOnlySpan<T> grad, Span<T> m, Span<T> v,
        T lr, T beta1, T beta2, T eps, T weightDecay, int step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.SameLength(kernel, nameof(grad), grad.Length, nameof(param), param.Length);
        Check.SameLength(kernel, nameof(m), m.Length, nameof(param), param.Length);
        Check.SameLength(kernel, nameof(v), v.Length, nameof(param), param.Length);
        if (step < 1) throw new ArgumentException($"{kernel}: step is {step}; it counts from 1.", nameof(step));
        double lrD = double.CreateChecked(lr), beta1D = double.CreateChecked(beta1), beta2D = double.CreateChecked(beta2);
        double lerpWeight = 1 - beta1D;
        var state = new State<T>
        {
            Kind = kind,
            LerpWeight = T.CreateChecked(lerpWeight),
            LerpSmallWeight = Math.Abs(lerpWeight) < 0.5,
            Beta2 = beta2,
            OneMinusBeta2 = T.CreateChecked(1 - beta2D),
            BiasCorrection2Sqrt = T.CreateChecked(Math.Pow(1 - Math.Pow(beta2D, step), 0.5)),
            NegativeStepSize = T.CreateChecked(-(lrD / (1 - Math.Pow(beta1D, step)))),
            Eps = eps,
            WeightDecay = weightDecay,
            HasWeightDecay = weightDecay != T.Zero,
            Decay = T.CreateChecked(1 - lrD * double.CreateChecked(weightDecay)),
        };
        Run(ref state, param, grad, m, v);
    }

    enum UpdateKind { Sgd, Adam, AdamW }

    struct State<T> where T : unmanaged
    {
        public UpdateKind Kind;
        public T* Param, Grad, M, V;
        public int Length;
        public T LearningRate, Momentum, WeightDecay;
        public T LerpWeight, Beta2, OneMinusBeta2, BiasCorrection2Sqrt, NegativeStepSize, Eps, Decay;
        public bool LerpSmallWeight, HasWeightDecay;
    }

    static void Run<T>(ref State<T> state, Span<T> param, ReadOnlySpan<T> grad, Span<T> m, Span<T> v)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (param.IsEmpty) return;
        fixed (T* pParam = param, pGrad = grad, pm = m, pv = v)
        fixed (State<T>* pState = &state)
        {
            state.Param = pParam;
            state.Grad = pGrad;
            state.M = pm;
            state.V = pv;
            state.Length = param.Length;
            int chunks = ParallelWork.ChunkCount(param.Length);
            ForkJoin.For(chunks, pState, &UpdateChunks<T>, ParallelWork.MinBlock(chunks, ParallelWork.ChunkLength));
        }
    }

    static void UpdateChunks<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (State<T>*)statePointer;
        int start = begin * ParallelWork.ChunkLength;
        int stop = (int)Math.Min((long)end * ParallelWork.ChunkLength, s->Length);
        if (s->Kind == UpdateKind.Sgd) SgdRange(s, start, stop);
        else AdamRange(s, start, stop);
    }

    static void SgdRange<T>(State<T>* s, int start, int stop) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* p = s->Param, grad = s->Grad, buf = s->M;
        T lr = s->LearningRate, momentum = s->Momentum, wd = s->WeightDecay;
        bool decays = s->HasWeightDecay;
        int i = start;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<T> lrV = Vector256.Create(lr), momentumV = Vector256.Create(momentum), wdV = Vector256.Create(wd);
            for (; i + Vector256<T>.Count <= stop; i += Vector256<T>.Count)
            {
                var pV = Vector256.Load(p + i);
                var g = Vector256.Load(grad + i);
                if (decays) g += wdV * pV;
                if (buf != null)
                {
                    g = Vector256.Load(buf + i) * momentumV + g;
                    g.Store(buf + i);
                }
                (pV - lrV * g).Store(p + i);
            }
        }
        for (; i < stop; i++)
        {
            T g = decays ? grad[i] + wd * p[i] : grad[i];
            if (buf != null) g = buf[i] = buf[i] * momentum + g;
            p[i] -= lr * g;
        }
    }

    static void AdamRange<T>(State<T>* s, int start, int stop) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* p = s->Param, grad = s->Grad, m = s->M, v = s->V;
        // torch.optim skips the weight-decay arithmetic when wd = 0 (it matters for infinite p).
        bool coupled = s->Kind == UpdateKind.Adam && s->HasWeightDecay;
        bool decoupled = s->Kind == UpdateKind.AdamW && s->HasWeightDecay;
        bool small = s->LerpSmallWeight;
        T wd = s->WeightDecay, decay = s->Decay, weight = s->LerpWeight, beta2 = s->Beta2, oneMinusBeta2 = s->OneMinusBeta2;
        T bc2Sqrt = s->BiasCorrection2Sqrt, eps = s->Eps, negativeStep = s->NegativeStepSize;
        int i = start;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<T> wdV = Vector256.Create(wd), decayV = Vector256.Create(decay), weightV = Vector256.Create(weight);
            Vector256<T> complementV = Vector256.Create(T.One - weight), beta2V = Vector256.Create(beta2);
            Vector256<T> oneMinusBeta2V = Vector256.Create(oneMinusBeta2), bc2SqrtV = Vector256.Create(bc2Sqrt);
            Vector256<T> epsV = Vector256.Create(eps), negativeStepV = Vector256.Create(negativeStep);
            for (; i + Vector256<T>.Count <= stop; i += Vector256<T>.Count)
            {
                var pV = Vector256.Load(p + i);
                var g = Vector256.Load(grad + i);
                if (coupled) g += wdV * pV;
                if (decoupled) pV *= decayV;
                var mV = Vector256.Load(m + i);
                mV = small ? mV + weightV * (g - mV) : g - (g - mV) * complementV;
                var vV = Vector256.Load(v + i) * beta2V + oneMinusBeta2V * g * g;
                mV.Store(m + i);
                vV.Store(v + i);
                (pV + negativeStepV * mV / (Vector256.Sqrt(vV) / bc2SqrtV + epsV)).Store(p + i);
            }
        }
        for (; i < stop; i++)
        {
            T pi = p[i], g = grad[i];
            if (coupled) g += wd * pi;
            if (decoupled) pi *= decay;
            T mi = m[i] = small ? m[i] + weight * (g - m[i]) : g - (g - m[i]) * (T.One - weight);
            T vi = v[i] = v[i] * beta2 + oneMinusBeta2 * g * g;
            p[i] = pi + negativeStep * mi / (T.Sqrt(vi) / bc2Sqrt + eps);
        }
    }
}
