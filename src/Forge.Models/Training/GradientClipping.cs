using System.Numerics;
using Forge.Autograd;
using Forge.Kernels;

namespace Forge.Models.Training;

/// <summary>torch.nn.utils.clip_grad_norm_: scales all gradients so their global L2 norm is at most maxNorm.</summary>
public static class GradientClipping
{
    /// <summary>Returns the global norm before clipping.</summary>
    public static double ClipGlobalNorm<T>(IReadOnlyList<Var<T>> parameters, double maxNorm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double norm = Math.Sqrt(SumOfSquares(parameters));
        if (maxNorm > 0 && norm > maxNorm)
        {
            T scale = T.CreateChecked(maxNorm / (norm + 1e-6));
            for (int i = 0; i < parameters.Count; i++) Backends.For<T>(parameters[i].Grad.Device).Scale(parameters[i].Grad, scale, parameters[i].Grad);
        }
        return norm;
    }

    /// <summary>
    /// Σ of every gradient's Σ g², in parameter order. When all gradients live on one device they go to its
    /// backend together, so a GPU is waited for once, not once per parameter tensor; the number is the same.
    /// </summary>
    static double SumOfSquares<T>(IReadOnlyList<Var<T>> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = parameters.Count;
        if (count == 0) return 0;
        // A reused per-thread array of the gradients, so that a step allocates nothing; cleared after use.
        var grads = Scratch<T>.Gradients is { } kept && kept.Length >= count ? kept : Scratch<T>.Gradients = new Tensor<T>[count];
        var device = parameters[0].Grad.Device;
        bool oneDevice = true;
        // Index loops: foreach over the IReadOnlyList interface would box an enumerator every step.
        for (int i = 0; i < count; i++)
        {
            grads[i] = parameters[i].Grad;
            oneDevice &= grads[i].Device == device;
        }
        double total = 0;
        if (oneDevice) total = Backends.For<T>(device).SumOfSquares(grads.AsSpan(0, count));
        else
            for (int i = 0; i < count; i++) total += Backends.For<T>(grads[i].Device).SumOfSquares(grads[i]);
        Array.Clear(grads, 0, count);
        return total;
    }

    static class Scratch<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [ThreadStatic] public static Tensor<T>[]? Gradients;
    }
}
