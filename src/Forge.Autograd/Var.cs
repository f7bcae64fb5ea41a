using System.Numerics;

namespace Forge.Autograd;

/// <summary>
/// A tensor in the autodiff graph: its value (<see cref="Data"/>), the gradient of the last backward
/// pass with respect to it (<see cref="Grad"/>, contiguous, same logical shape), and the op that made it.
/// Leaves with <see cref="RequiresGrad"/> are parameters: their gradients accumulate over backward
/// passes until <see cref="ZeroGrad"/>, as in PyTorch.
/// </summary>
public sealed partial class Var<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    Tensor<T>? _grad;
    GradientState? _gradState;   // intermediates only; shared with the vars whose gradient is a view of this buffer

    public Var(Tensor<T> data, bool requiresGrad = false, string? name = null)
    {
        Data = data;
        RequiresGrad = requiresGrad;
        Name = name;
    }

    /// <summary>The value. For op outputs the buffer is reused when the tape is replayed.</summary>
    public Tensor<T> Data { get; }
    public bool RequiresGrad { get; }
    /// <summary>A label for messages and parameter lists (e.g. <c>blocks.0.attn.W_Q</c>).</summary>
    public string? Name { get; set; }
    /// <summary>The op that produced this value, or null for a leaf.</summary>
    public Op<T>? Creator { get; internal set; }
    public bool IsLeaf => Creator is null;

    public int[] Shape => Data.Shape;
    public ReadOnlySpan<int> ShapeSpan => Data.ShapeSpan;
    public int Rank => Data.Rank;
    public int Size(int axis) => Data.Size(axis);

    /// <summary>The gradient (allocated on first use, contiguous, same shape as <see cref="Data"/>).</summary>
    public Tensor<T> Grad => _grad ??= new Tensor<T>(Data.Shape, Data.Device);
    public bool HasGrad => _grad is not null;

    /// <summary>The gradient as a flat span (row-major, matching the logical shape).</summary>
    internal Span<T> GradSpan => Grad.AsSpan();

    public void ZeroGrad()
    {
        if (_grad is not null) Clear(_grad);
    }

    internal GradientState GradState => _gradState ??= new GradientState();

    /// <summary>Backward is starting: allocates the gradient if needed and marks its contents stale (see <see cref="GradientState"/>).</summary>
    internal void MarkGradFresh()
    {
        _ = Grad;
        GradState.Fresh = true;
    }

    /// <summary>True if nothing has been written to this gradient in the current backward pass.</summary>
    internal bool GradIsFresh => _gradState is { Fresh: true };

    /// <summary>
    /// Called by the op about to write this gradient: true if it is the first writer in this pass (the
    /// buffer is stale and must be overwritten, not added to); the buffer counts as written afterwards.
    /// Always false for leaves, whose gradients accumulate across passes.
    /// </summary>
    internal bool TakeFresh()
    {
        if (!GradIsFresh) return false;
        _gradState!.Fresh = false;
        return true;
    }

    static void Clear(Tensor<T> gradient) => Forge.Kernels.Backends.For<T>(gradient.Device).Fill(gradient, T.Zero);

    /// <summary>Makes this value's gradient a view of another buffer (a reshape shares its input's gradient).</summary>
    internal void ShareGrad(Tensor<T> gradient, GradientState state)
    {
        if (_grad is not null) throw new InvalidOperationException($"{this}: gradient already allocated");
        _grad = gradient;
        _gradState = state;
    }

    /// <summary>Creates a parameter (a leaf that requires grad).</summary>
    public static Var<T> Parameter(Tensor<T> data, string? name = null) => new(data, requiresGrad: true, name);

    /// <summary>Creates a constant input (a leaf without grad).</summary>
    public static Var<T> Constant(Tensor<T> data, string? name = null) => new(data, requiresGrad: false, name);

    /// <summary>The value of a one-element tensor (read from any device without allocating).</summary>
    public T Item()
    {
        if (Data.Length != 1) throw new ShapeException($"Item: tensor of shape {Forge.Shape.Format(Data.Shape)} has {Data.Length} elements, not 1");
        return Data.First();
    }

    public override string ToString() => $"Var{(Name is null ? "" : " " + Name)} {Forge.Shape.Format(Data.Shape)}{(Creator is null ? "" : " ← " + Creator.Name)}";
}
