using System.Numerics;
using System.Numerics.Tensors;
using Forge.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Kernels;

/// <summary>
/// LibrarySumOrder must reproduce TensorPrimitives.Sum and SumOfSquares bit for bit (it stands in for them in fused
/// kernels whose results are pinned). If a System.Numerics.Tensors update changes the library's order, this fails.
/// </summary>
[TestFixture(TypeArgs = [typeof(float)])]
[TestFixture(TypeArgs = [typeof(double)])]
public unsafe class LibrarySumOrderTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [Test]
    public void Sum_And_SumOfSquaredDeviations_EqualTheLibrary_BitForBit()
    {
        if (!LibrarySumOrder.Applies<T>(64)) Assert.Ignore("the library's 512-bit path is not taken on this machine");
        var data = Uniform<T>(1200, seed: 5, low: -2, high: 3);
        for (int i = 0; i < data.Length; i += 7) data[i] *= T.CreateChecked(10_000);
        T shift = T.CreateChecked(0.37);
        int checkedLengths = 0;
        for (int length = 1; length <= 600; length++)
        {
            if (!LibrarySumOrder.Applies<T>(length)) continue;
            foreach (int offset in new[] { 0, 1, 3, 600 - length / 2 })
            {
                var span = data.AsSpan(offset, length);
                var deviations = new T[length];
                TensorPrimitives.Subtract<T>(span, shift, deviations);
                fixed (T* p = span)
                {
                    T sum = LibrarySumOrder.Sum(p, length, new LibrarySumOrder.Identity<T>());
                    T squares = LibrarySumOrder.Sum(p, length, new LibrarySumOrder.SquaredDeviation<T>(shift));
                    KernelAssert.Equal<T>([TensorPrimitives.Sum<T>(span)], [sum], $"Sum, length {length}, offset {offset}");
                    KernelAssert.Equal<T>([TensorPrimitives.SumOfSquares<T>(deviations)], [squares], $"SumOfSquares, length {length}, offset {offset}");
                }
            }
            checkedLengths++;
        }
        Assert.That(checkedLengths, Is.GreaterThan(500));
    }
}
