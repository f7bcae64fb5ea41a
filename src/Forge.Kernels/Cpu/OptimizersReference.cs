using System.Numerics;

namespace Forge.Kernels;

/// <summary>
/// Plain scalar versions of <see cref="Optimizers"/> (same signatures), written as the lines of
/// torch.optim's single-tensor code they mirror; the tests compare against these.
/// </summary>
public static class OptimizersReference
{
    public static void Sgd<T>(Span<T> param, ReadOnlySpan<T> grad, Span<T> momentumBuf, T lr, T momentum, T weightDecay)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < param.Length; i++)
        {
            T g = grad[i];
            if (weightDecay != T.Zero) g = g + weightDecay * param[i];   // grad = grad.add(param, alpha=wd)
            if (!momentumBuf.IsEmpty)
            {
                momentumBuf[i] = momentumBuf[i] * momentum + g;       // buf.mul_(momentum).add_(grad)
                g = momentumBuf[i];
            }
            param[i] = param[i] + -lr * g;                             // param.add_(grad, alpha=-lr)
        }
    }

    public static void Adam<T>(Span<T> param, ReadOnlySpan<T> grad, Span<T> m, Span<T> v,
        T lr, T beta1, T beta2, T eps, T weightDecay, int step)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        AdamLike(decoupled: false, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);

    public static void AdamW<T>(Span<T> param, ReadOnlySpan<T> grad, Span<T> m, Span<T> v,
        T lr, T beta1, T beta2, T eps, T weightDecay, int step)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        AdamLike(decoupled: true, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);

    static void AdamLike<T>(bool decoupled, Span<T> param, ReadOnlySpan<T> grad, Span<T> m, Span<T> v,
        T lr, T beta1, T beta2, T eps, T weightDecay, int step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // The Python-side scalars, in double.
        double lrD = double.CreateChecked(lr), wdD = double.CreateChecked(weightDecay);
        double beta1D = double.CreateChecked(beta1), beta2D = double.CreateChecked(beta2);
        double biasCorrection1 = 1 - Math.Pow(beta1D, step);
        double biasCorrection2 = 1 - Math.Pow(beta2D, step);
        T stepSize = T.CreateChecked(lrD / biasCorrection1);
        T biasCorrection2Sqrt = T.CreateChecked(Math.Pow(biasCorrection2, 0.5));
        T lerpWeight = T.CreateChecked(1 - beta1D);
        for (int i = 0; i < param.Length; i++)
        {
            T g = grad[i];
            if (weightDecay != T.Zero)
            {
                if (decoupled) param[i] = param[i] * T.CreateChecked(1 - lrD * wdD); // param.mul_(1 - lr*wd)
                else g = g + weightDecay * param[i];                                 // grad.add(param, alpha=wd)
            }
            // exp_avg.lerp_(grad, 1 - beta1): torch's lerp switches formula at weight 0.5.
            m[i] = double.CreateChecked(lerpWeight) < 0.5
                ? m[i] + lerpWeight * (g - m[i])
                : g - (g - m[i]) * (T.One - lerpWeight);
            v[i] = v[i] * beta2 + T.CreateChecked(1 - beta2D) * g * g;             // mul_(beta2).addcmul_(g, g, 1-beta2)
            T denom = T.Sqrt(v[i]) / biasCorrection2Sqrt + eps;                      // (sqrt(v)/bc2_sqrt).add_(eps)
            param[i] = param[i] + -stepSize * m[i] / denom;                          // addcdiv_(m, denom, -step_size)
        }
    }
}
