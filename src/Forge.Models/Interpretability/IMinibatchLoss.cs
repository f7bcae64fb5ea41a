using System.Numerics;
using Forge.Autograd;

namespace Forge.Models.Interpretability;

/// <summary>
/// A stochastic, differentiable loss of a parameter list — what a sampler such as the SGLD of
/// <see cref="LocalLearningCoefficient"/> needs, whatever the model (a token transformer's
/// cross-entropy, a regression's mean squared error, a closed-form test loss).
/// </summary>
public interface IMinibatchLoss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The parameters the sampler moves; their data and gradients must live on the CPU.</summary>
    IReadOnlyList<Var<T>> Parameters { get; }

    /// <summary>
    /// Draws a minibatch from <paramref name="rng"/>, evaluates the loss at the current parameters and
    /// leaves ∂loss/∂parameter in every parameter's gradient (zeroed first, not accumulated); returns
    /// the loss. When the loss is not finite the gradients may be skipped: the sampler stops there.
    /// </summary>
    double LossAndGradients(Rng rng);
}
