using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Forge.Kernels;

/// <summary>
/// Argument checks shared by the CPU kernels. The checks themselves are cheap comparisons; the
/// messages are built only in the separate throw helpers, so a call that passes allocates nothing.
/// Every message names the kernel, the argument and the sizes involved.
/// </summary>
internal static class Check
{
    /// <summary>Throws unless <paramref name="value"/> ≥ 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void NonNegative(string kernel, string argument, long value)
    {
        if (value < 0) ThrowNegative(kernel, argument, value);
    }

    /// <summary>Throws unless the span holds at least <paramref name="required"/> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AtLeast(string kernel, string argument, int length, long required, string what)
    {
        if (length < required) ThrowTooShort(kernel, argument, length, required, what);
    }

    /// <summary>Throws unless the span is empty or holds at least <paramref name="required"/> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void EmptyOrAtLeast(string kernel, string argument, int length, long required, string what)
    {
        if (length != 0 && length < required) ThrowTooShort(kernel, argument, length, required, what);
    }

    /// <summary>Throws unless two spans have the same length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SameLength(string kernel, string argument, int length, string otherArgument, int otherLength)
    {
        if (length != otherLength) ThrowLengthMismatch(kernel, argument, length, otherArgument, otherLength);
    }

    /// <summary>
    /// Validates a shape (non-negative dims, rank ≤ <see cref="StridedLayout.MaxRank"/>) and returns
    /// its element count.
    /// </summary>
    public static long Shape(string kernel, string argument, ReadOnlySpan<int> shape)
    {
        if (shape.Length > StridedLayout.MaxRank) ThrowRank(kernel, argument, shape.Length);
        long count = 1;
        for (int axis = 0; axis < shape.Length; axis++)
        {
            if (shape[axis] < 0) ThrowNegativeDim(kernel, argument, axis, shape[axis]);
            count *= shape[axis];
        }
        if (count > int.MaxValue) ThrowTooLarge(kernel, argument, count);
        return count;
    }

    /// <summary>
    /// Validates that a strided view (offset, strides over <paramref name="shape"/>) lies inside a
    /// buffer of <paramref name="length"/> elements. Negative strides are allowed. Call only for
    /// non-empty shapes.
    /// </summary>
    public static void StridedView(string kernel, string argument, ReadOnlySpan<int> shape, int length,
        int offset, ReadOnlySpan<int> strides)
    {
        if (strides.Length != shape.Length) ThrowStridesRank(kernel, argument, strides.Length, shape.Length);
        long lowest = offset, highest = offset;
        for (int axis = 0; axis < shape.Length; axis++)
        {
            long reach = (long)(shape[axis] - 1) * strides[axis];
            if (reach < 0) lowest += reach; else highest += reach;
        }
        if (lowest < 0 || highest >= length) ThrowViewOutside(kernel, argument, lowest, highest, length);
    }

    [DoesNotReturn]
    static void ThrowNegative(string kernel, string argument, long value) =>
        throw new ArgumentException($"{kernel}: {argument} must be non-negative, got {value}.", argument);

    [DoesNotReturn]
    static void ThrowTooShort(string kernel, string argument, int length, long required, string what) =>
        throw new ArgumentException(
            $"{kernel}: {argument} has {length} elements but needs {required} ({what}).", argument);

    [DoesNotReturn]
    static void ThrowLengthMismatch(string kernel, string argument, int length, string other, int otherLength) =>
        throw new ArgumentException(
            $"{kernel}: {argument} has {length} elements but {other} has {otherLength}; they must match.", argument);

    [DoesNotReturn]
    static void ThrowRank(string kernel, string argument, int rank) =>
        throw new ArgumentException(
            $"{kernel}: {argument} has rank {rank}; at most {StridedLayout.MaxRank} axes are supported.", argument);

    [DoesNotReturn]
    static void ThrowNegativeDim(string kernel, string argument, int axis, int dim) =>
        throw new ArgumentException($"{kernel}: {argument}[{axis}] is {dim}; sizes must be non-negative.", argument);

    [DoesNotReturn]
    static void ThrowTooLarge(string kernel, string argument, long count) =>
        throw new ArgumentException($"{kernel}: {argument} has {count} elements, more than a span can hold.", argument);

    [DoesNotReturn]
    static void ThrowStridesRank(string kernel, string argument, int stridesRank, int shapeRank) =>
        throw new ArgumentException(
            $"{kernel}: {argument} strides have {stridesRank} axes but the shape has {shapeRank}.", argument);

    [DoesNotReturn]
    static void ThrowViewOutside(string kernel, string argument, long lowest, long highest, int length) =>
        throw new ArgumentException(
            $"{kernel}: the view of {argument} reaches elements {lowest}..{highest} but {argument} has {length} elements.",
            argument);
}
