using System.Numerics;
using Forge.Kernels;

namespace Forge.Autograd.Optim;

/// <summary>
/// Adam (torch.optim.Adam): weight decay is <i>coupled</i> L2 (added to the gradient before the
/// moments); with <c>decoupled: true</c> it is AdamW (torch.optim.AdamW: p −= lr·wd·p separately).
/// </summary>
public sealed class Adam<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly Tensor<T>[] _m, _v;

    public Adam(IEnumerable<Var<T>> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool decoupled = false) : base(parameters, learningRate)
    {
        (Beta1, Beta2, Eps, WeightDecay, Decoupled) = (beta1, beta2, eps, weightDecay, decoupled);
        _m = NewState();
        _v = NewState();
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }
    public bool Decoupled { get; }

    /// <summary>Every parameter in one <see cref="Backend{T}.AdamMany"/> (on a GPU, a launch per 8 tensors); the same numbers as one by one.</summary>
    protected override void UpdateAll()
    {
        T lr = T.CreateChecked(LearningRate), b1 = T.CreateChecked(Beta1), b2 = T.CreateChecked(Beta2);
        T eps = T.CreateChecked(Eps), wd = T.CreateChecked(WeightDecay);
        Backend.AdamMany(Decoupled, Values, Grads, _m, _v, lr, b1, b2, eps, wd, StepCount);
    }

    protected override void Update(int index, Tensor<T> parameter, Tensor<T> gradient)
    {
        T lr = T.CreateChecked(LearningRate), b1 = T.CreateChecked(Beta1), b2 = T.CreateChecked(Beta2);
        T eps = T.CreateChecked(Eps), wd = T.CreateChecked(WeightDecay);
        Backend.Adam(Decoupled, parameter, gradient, _m[index], _v[index], lr, b1, b2, eps, wd, StepCount);
    }

    public override IEnumerable<(string, Tensor<T>)> State() =>
        Parameters.SelectMany((p, i) => new[] { ($"{p.Name}.exp_avg", _m[i]), ($"{p.Name}.exp_avg_sq", _v[i]) });
}
