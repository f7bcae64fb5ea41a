using System.Numerics;
using System.Runtime.CompilerServices;
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
        if (parameters.Count == 0) return 0;
        // The gradient list is kept per parameter list (refilled every call: a gradient may be replaced), so a step allocates nothing.
        var grads = GradientLists<T>.For(parameters);
        var device = parameters[0].Grad.Device;
        bool oneDevice = true;
        // Index loops: foreach over the IReadOnlyList interface would box an enumerator every step.
        for (int i = 0; i < parameters.Count; i++)
        {
            grads[i] = parameters[i].Grad;
            oneDevice &= grads[i].Device == device;
        }
        if (oneDevice) return Backends.For<T>(device).SumOfSquares(grads);
        double total = 0;
        for (int i = 0; i < grads.Length; i++) total += Backends.For<T>(grads[i].Device).SumOfSquares(grads[i]);
        return total;
    }

    static class GradientLists<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        static readonly ConditionalWeakTable<IReadOnlyList<Var<T>>, Tensor<T>[]> s_lists = new();

        public static Tensor<T>[] For(IReadOnlyList<Var<T>> parameters)
        {
            lock (s_lists)
            {
                if (s_lists.TryGetValue(parameters, out var list) && list.Length == parameters.Count) return list;
                list = new Tensor<T>[parameters.Count];
                s_lists.AddOrUpdate(parameters, list);
                return list;
            }
        }
    }
}
