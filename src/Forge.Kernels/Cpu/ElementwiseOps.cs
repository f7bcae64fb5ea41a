using System.Numerics;

namespace Forge.Kernels;

/// <summary>One-input element-wise operations of <see cref="Elementwise.Unary{T}"/>.</summary>
public enum UnaryOp
{
    /// <summary>−x</summary>
    Neg,
    /// <summary>eˣ</summary>
    Exp,
    /// <summary>ln x</summary>
    Log,
    /// <summary>√x</summary>
    Sqrt,
    /// <summary>x²</summary>
    Square,
    /// <summary>tanh x</summary>
    Tanh,
    /// <summary>max(x, 0); NaN stays NaN.</summary>
    Relu,
    /// <summary>|x|</summary>
    Abs,
    /// <summary>1/x</summary>
    Reciprocal,
}

/// <summary>
/// Two-input element-wise operations of <see cref="Elementwise.Binary{T}"/>. Max and Min follow
/// IEEE 754 <c>maximum</c>/<c>minimum</c> (as <c>T.Max</c>/<c>T.Min</c>): NaN propagates, +0 &gt; −0.
/// </summary>
public enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
}

/// <summary>
/// A binary operation as a type, so strided loops are compiled once per operation with the
/// operation inlined instead of switching on <see cref="BinaryOp"/> per element.
/// </summary>
internal interface IBinaryOperator<T> where T : IFloatingPointIeee754<T>
{
    static abstract T Apply(T a, T b);
}

internal readonly struct AddOperator<T> : IBinaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => a + b;
}

internal readonly struct SubOperator<T> : IBinaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => a - b;
}

internal readonly struct MulOperator<T> : IBinaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => a * b;
}

internal readonly struct DivOperator<T> : IBinaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => a / b;
}

internal readonly struct MaxOperator<T> : IBinaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => T.Max(a, b);
}

internal readonly struct MinOperator<T> : IBinaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => T.Min(a, b);
}
