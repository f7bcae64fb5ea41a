using System.Numerics;
using System.Text;

namespace Forge;

/// <summary>
/// An n-dimensional array: a strided, row-major view (<see cref="Shape"/>, <see cref="Strides"/>,
/// <see cref="Offset"/>) of a flat <see cref="Storage{T}"/>. Views (reshape, permute, narrow, expand)
/// share storage and copy nothing; <see cref="Contiguous"/> copies only when the layout needs it.
/// float (training) and double (gradient checks, analysis) share this one generic source; int holds
/// token ids.
/// </summary>
public sealed partial class Tensor<T> where T : unmanaged, INumberBase<T>
{
    readonly int[] _shape;
    readonly int[] _strides;

    public Storage<T> Storage { get; }
    /// <summary>Index of element [0, 0, …] in <see cref="Storage"/>.</summary>
    public int Offset { get; }
    public ReadOnlySpan<int> ShapeSpan => _shape;
    /// <summary>A copy of the shape (safe to keep or modify).</summary>
    public int[] Shape => (int[])_shape.Clone();
    public int[] Strides => (int[])_strides.Clone();
    public ReadOnlySpan<int> StridesSpan => _strides;
    public int Rank => _shape.Length;
    /// <summary>Number of elements.</summary>
    public int Length { get; }
    public Device Device => Storage.Device;
    public bool IsContiguous => Forge.Shape.IsContiguous(_shape, _strides);

    public Tensor(Storage<T> storage, int[] shape, int[] strides, int offset = 0)
    {
        if (shape.Length != strides.Length)
            throw new ShapeException($"Tensor: shape {Forge.Shape.Format(shape)} and strides {Forge.Shape.Format(strides)} differ in rank");
        _shape = (int[])shape.Clone();
        _strides = (int[])strides.Clone();
        Storage = storage;
        Offset = offset;
        Length = Forge.Shape.Count(shape);
        if (Length > 0 && (offset < 0 || LastIndex() >= storage.Length))
            throw new ShapeException($"Tensor: view {Forge.Shape.Format(shape)} with strides {Forge.Shape.Format(strides)} at offset {offset} reaches past the storage of {storage.Length} elements");
    }

    /// <summary>A new zero-filled contiguous tensor on <paramref name="device"/> (default CPU).</summary>
    public Tensor(int[] shape, Device? device = null)
        : this((device ?? CpuDevice.Instance).Allocate<T>(Forge.Shape.Count(shape)), shape, Forge.Shape.ContiguousStrides(shape)) { }

    public int Size(int axis) => _shape[Forge.Shape.NormalizeAxis("Size", axis, Rank)];
    public int Stride(int axis) => _strides[Forge.Shape.NormalizeAxis("Stride", axis, Rank)];

    int LastIndex()
    {
        long last = Offset;
        for (int i = 0; i < _shape.Length; i++) last += (long)(_shape[i] - 1) * Math.Max(_strides[i], 0);
        return (int)Math.Min(last, int.MaxValue);
    }

    /// <summary>The backing array of a CPU tensor. Use with <see cref="Offset"/> and <see cref="Strides"/>.</summary>
    public T[] HostArray => Storage is CpuStorage<T> cpu
        ? cpu.Array
        : throw new InvalidOperationException($"Tensor: data lives on device '{Device.Name}'; call ToDevice(CpuDevice.Instance) first");

    /// <summary>The elements of a contiguous CPU tensor, in row-major order (no copy).</summary>
    public Span<T> AsSpan()
    {
        if (!IsContiguous) throw new InvalidOperationException($"Tensor.AsSpan: the view {Forge.Shape.Format(_shape)} with strides {Forge.Shape.Format(_strides)} is not contiguous; call Contiguous() first");
        return HostArray.AsSpan(Offset, Length);
    }

    /// <summary>Element access by full index (slow: for tests, analysis and printing).</summary>
    public T this[params int[] index]
    {
        get => HostArray[FlatIndex(index)];
        set => HostArray[FlatIndex(index)] = value;
    }

    int FlatIndex(int[] index)
    {
        if (index.Length != Rank) throw new ShapeException($"Tensor indexer: index of rank {index.Length} for a tensor of shape {Forge.Shape.Format(_shape)}");
        int flat = Offset;
        for (int i = 0; i < index.Length; i++)
        {
            if ((uint)index[i] >= (uint)_shape[i]) throw new IndexOutOfRangeException($"Tensor indexer: index {index[i]} is out of range for axis {i} of size {_shape[i]}");
            flat += index[i] * _strides[i];
        }
        return flat;
    }

    /// <summary>Element [0, 0, …] (a scalar's value), read from any device without allocating.</summary>
    public T First()
    {
        if (Length == 0) throw new InvalidOperationException($"Tensor.First: the tensor {Forge.Shape.Format(_shape)} is empty");
        if (Storage is CpuStorage<T> cpu) return cpu.Array[Offset];
        Span<T> one = stackalloc T[1];
        Storage.CopyToHost(Offset, one);
        return one[0];
    }

    /// <summary>The elements in row-major order, as a new array (works for any layout and device).</summary>
    public T[] ToArray()
    {
        var result = new T[Length];
        if (Storage is not CpuStorage<T> cpu)
        {
            var host = new T[Storage.Length];
            Storage.CopyToHost(0, host);
            StridedCopy.Gather(host, Offset, _shape, _strides, result);
        }
        else StridedCopy.Gather(cpu.Array, Offset, _shape, _strides, result);
        return result;
    }

    /// <summary>This tensor if it is already contiguous, else a contiguous copy.</summary>
    public Tensor<T> Contiguous() => IsContiguous ? this : Tensor.FromArray(ToArray(), _shape, Device);

    /// <summary>A contiguous deep copy.</summary>
    public Tensor<T> Clone() => Tensor.FromArray(ToArray(), _shape, Device);

    /// <summary>Copies <paramref name="source"/>'s elements into this tensor (same shape; any layouts).</summary>
    public void CopyFrom(Tensor<T> source)
    {
        if (!Forge.Shape.SameShape(_shape, source._shape)) throw new ShapeException("CopyFrom", "shapes differ", _shape, source._shape);
        if (Storage is CpuStorage<T> cpu) StridedCopy.Scatter(source.ToArray(), cpu.Array, Offset, _shape, _strides);
        else if (IsContiguous) Storage.CopyFromHost(Offset, source.ToArray());
        else throw new InvalidOperationException($"CopyFrom: a strided view on device '{Device.Name}' cannot be written from the host; copy into a contiguous tensor");
    }

    /// <summary>Converts element type (e.g. float ↔ double).</summary>
    public Tensor<TOut> Cast<TOut>() where TOut : unmanaged, INumberBase<TOut>
    {
        var source = ToArray();
        var result = new TOut[source.Length];
        for (int i = 0; i < source.Length; i++) result[i] = TOut.CreateChecked(source[i]);
        return Tensor.FromArray(result, _shape, Device);
    }

    /// <summary>Moves (copies) the tensor to another device; returns this tensor if it is already there.</summary>
    public Tensor<T> ToDevice(Device device) => device == Device ? this : Tensor.FromArray(ToArray(), _shape, device);

    public override string ToString()
    {
        var text = new StringBuilder($"Tensor<{typeof(T).Name}>{Forge.Shape.Format(_shape)}");
        if (Length <= 64) text.Append(" {").Append(string.Join(", ", ToArray())).Append('}');
        return text.ToString();
    }
}
