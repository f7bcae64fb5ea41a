using System.Numerics;

namespace Forge;

/// <summary>Creating tensors: <c>Tensor.Zeros&lt;float&gt;(2, 3)</c>, <c>Tensor.FromArray(data, shape)</c>, random fills.</summary>
public static class Tensor
{
    public static Tensor<T> Zeros<T>(params int[] shape) where T : unmanaged, INumberBase<T> => new(shape);

    public static Tensor<T> Full<T>(T value, params int[] shape) where T : unmanaged, INumberBase<T>
    {
        var data = new T[Forge.Shape.Count(shape)];
        Array.Fill(data, value);
        return FromArray(data, shape);
    }

    public static Tensor<T> Ones<T>(params int[] shape) where T : unmanaged, INumberBase<T> => Full(T.One, shape);

    public static Tensor<T> Scalar<T>(T value) where T : unmanaged, INumberBase<T> => FromArray([value], []);

    /// <summary>Wraps <paramref name="data"/> (row-major, not copied on the CPU) as a tensor of <paramref name="shape"/>.</summary>
    public static Tensor<T> FromArray<T>(T[] data, int[] shape, Device? device = null) where T : unmanaged, INumberBase<T>
    {
        int count = Forge.Shape.Count(shape);
        if (data.Length != count)
            throw new ShapeException($"Tensor.FromArray: {data.Length} elements do not fill shape {Forge.Shape.Format(shape)} ({count} elements)");
        device ??= CpuDevice.Instance;
        Storage<T> storage;
        if (device is CpuDevice) storage = new CpuStorage<T>(data);
        else
        {
            storage = device.Allocate<T>(count);
            storage.CopyFromHost(0, data);
        }
        return new Tensor<T>(storage, shape, Forge.Shape.ContiguousStrides(shape));
    }

    /// <summary>0, 1, …, n−1.</summary>
    public static Tensor<T> Arange<T>(int n) where T : unmanaged, INumberBase<T>
    {
        var data = new T[n];
        for (int i = 0; i < n; i++) data[i] = T.CreateChecked(i);
        return FromArray(data, [n]);
    }

    /// <summary>Samples from N(mean, std²).</summary>
    public static Tensor<T> Normal<T>(Rng rng, T mean, T std, params int[] shape) where T : unmanaged, INumberBase<T>
    {
        var data = new T[Forge.Shape.Count(shape)];
        double m = double.CreateChecked(mean), s = double.CreateChecked(std);
        for (int i = 0; i < data.Length; i++) data[i] = T.CreateChecked(m + s * rng.NextNormal());
        return FromArray(data, shape);
    }

    /// <summary>Samples uniformly from [low, high).</summary>
    public static Tensor<T> Uniform<T>(Rng rng, T low, T high, params int[] shape) where T : unmanaged, INumberBase<T>
    {
        var data = new T[Forge.Shape.Count(shape)];
        double lo = double.CreateChecked(low), hi = double.CreateChecked(high);
        for (int i = 0; i < data.Length; i++) data[i] = T.CreateChecked(lo + (hi - lo) * rng.NextDouble());
        return FromArray(data, shape);
    }
}
