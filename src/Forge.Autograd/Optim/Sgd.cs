using System.Numerics;
using Forge.Kernels;

namespace Forge.Autograd.Optim;

/// <summary>SGD with optional momentum and coupled L2 weight decay (torch.optim.SGD semantics).</summary>
public sealed class Sgd<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly Tensor<T>[]? _momentum;

    public Sgd(IEnumerable<Var<T>> parameters, double learningRate, double momentum = 0, double weightDecay = 0)
        : base(parameters, learningRate)
    {
        (Momentum, WeightDecay) = (momentum, weightDecay);
        _momentum = momentum == 0 ? null : NewState();
    }

    public double Momentum { get; }
    public double WeightDecay { get; }

    protected override void Update(int index, Tensor<T> parameter, Tensor<T> gradient) =>
        Backend.Sgd(parameter, gradient, _momentum?[index],
            T.CreateChecked(LearningRate), T.CreateChecked(Momentum), T.CreateChecked(WeightDecay));

    public override IEnumerable<(string, Tensor<T>)> State() =>
        _momentum is null ? [] : Parameters.Select((p, i) => ($"{p.Name}.momentum", _momentum[i]));
}
