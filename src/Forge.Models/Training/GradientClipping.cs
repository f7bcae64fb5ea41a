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
        double sumOfSquares = 0;
        // Index loops: foreach over the IReadOnlyList interface would box an enumerator every step.
        for (int i = 0; i < parameters.Count; i++) sumOfSquares += Backends.For<T>(parameters[i].Grad.Device).SumOfSquares(parameters[i].Grad);
        double norm = Math.Sqrt(sumOfSquares);
        if (maxNorm > 0 && norm > maxNorm)
        {
            T scale = T.CreateChecked(maxNorm / (norm + 1e-6));
            for (int i = 0; i < parameters.Count; i++) Backends.For<T>(parameters[i].Grad.Device).Scale(parameters[i].Grad, scale, parameters[i].Grad);
        }
        return norm;
    }
}
