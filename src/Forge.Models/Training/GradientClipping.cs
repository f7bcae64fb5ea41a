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
        try
        {
            double norm = Math.Sqrt(SumOfSquares(grads.AsSpan(0, count), oneDevice ? device : null));
            if (maxNorm > 0 && norm > maxNorm)
            {
                T scale = T.CreateChecked(maxNorm / (norm + 1e-6));
                if (oneDevice) Backends.For<T>(device).ScaleManyInPlace(grads.AsSpan(0, count), scale);   // a GPU: one launch per 8 tensors
                else
                    for (int i = 0; i < count; i++) Backends.For<T>(grads[i].Device).Scale(grads[i], scale, grads[i]);
            }
            return norm;
        }
        finally { Array.Clear(grads, 0, count); }
    }

    /// <summary>
    /// Σ of every gradient's Σ g², in parameter order. When all gradients live on one device (<paramref name="device"/>
    /// not null) they go to its backend together, so a GPU is waited for once, not once per parameter tensor; the number is the same.
    /// </summary>
    static double SumOfSquares<T>(ReadOnlySpan<Tensor<T>> grads, Device? device) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (device is not null) return Backends.For<T>(device).SumOfSquares(grads);
        double total = 0;
        foreach (var g in grads) total += Backends.For<T>(g.Device).SumOfSquares(g);
        return total;
    }

    static class Scratch<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [ThreadStatic] public static Tensor<T>[]? Gradients;
    }
}
