using System.Numerics;
using Forge.Autograd;

namespace Forge.Models.Transformers;

/// <summary>
/// A model's parameters in a fixed order, by their conventions names (<c>blocks.0.attn.W_Q</c>, …).
/// The order is the creation order, which is also the order of random initialisation. Values are
/// created on the host and moved to the set's <see cref="Device"/>, so a seed gives the same initial
/// model on every device. A set made with <c>sharingValuesOf</c> holds new parameters over the values of
/// another set (same tensors, own gradients): a replica of a model for one micro-batch
/// (<see cref="Transformer{T}.SharingWeights"/>).
/// </summary>
public sealed class ParameterSet<T>(Device? device = null, ParameterSet<T>? sharingValuesOf = null) where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly List<Var<T>> _ordered = [];
    readonly Dictionary<string, Var<T>> _byName = new();

    /// <summary>Where the parameters live.</summary>
    public Device Device { get; } = device ?? CpuDevice.Instance;

    public Var<T> Add(string name, Tensor<T> value)
    {
        if (_byName.ContainsKey(name)) throw new ArgumentException($"ParameterSet: duplicate parameter '{name}'");
        var parameter = Var<T>.Parameter(sharingValuesOf is null ? value.ToDevice(Device) : Shared(name, value), name);
        _ordered.Add(parameter);
        _byName[name] = parameter;
        return parameter;
    }

    Tensor<T> Shared(string name, Tensor<T> value)
    {
        var shared = sharingValuesOf![name].Data;
        if (!Forge.Shape.SameShape(shared.ShapeSpan, value.ShapeSpan))
            throw new ShapeException($"ParameterSet: '{name}' is {Forge.Shape.Format(shared.Shape)} in the shared set, {Forge.Shape.Format(value.Shape)} here");
        return shared;
    }

    public IReadOnlyList<Var<T>> All => _ordered;
    public int Count => _ordered.Count;
    public bool Contains(string name) => _byName.ContainsKey(name);

    public Var<T> this[string name] => _byName.TryGetValue(name, out var p) ? p
        : throw new KeyNotFoundException($"ParameterSet: no parameter '{name}'");

    /// <summary>Total number of scalar parameters.</summary>
    public long ElementCount => _ordered.Sum(p => (long)p.Data.Length);

    /// <summary>
    /// Copies every value of <paramref name="source"/> (same names and shapes, in the same order) into
    /// these parameters, across devices.
    /// </summary>
    public void CopyFrom(ParameterSet<T> source)
    {
        if (source.Count != Count) throw new ArgumentException($"ParameterSet.CopyFrom: {source.Count} parameters for {Count}");
        for (int i = 0; i < Count; i++)
        {
            if (source._ordered[i].Name != _ordered[i].Name)
                throw new ArgumentException($"ParameterSet.CopyFrom: parameter {i} is '{source._ordered[i].Name}' there and '{_ordered[i].Name}' here");
            _ordered[i].Data.CopyFrom(source._ordered[i].Data);
        }
    }

    /// <summary>The name of the first parameter holding a NaN or an infinity, or null (device values are read through a host copy).</summary>
    public string? FirstNonFinite()
    {
        foreach (var p in _ordered)
        {
            var data = p.Data.Device is CpuDevice ? p.Data : p.Data.ToDevice(CpuDevice.Instance);
            foreach (T value in data.AsSpan())
                if (!T.IsFinite(value)) return p.Name;
        }
        return null;
    }

    public void ZeroGrad()
    {
        foreach (var p in _ordered) p.ZeroGrad();
    }
}
