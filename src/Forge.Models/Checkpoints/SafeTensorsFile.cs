namespace Forge.Models.Checkpoints;

/// <summary>
/// The in-memory model of a safetensors file: named tensors in order (each a <see cref="SafeTensorsEntry"/>
/// with dtype, shape and raw bytes) and string <see cref="Metadata"/>. Read one with
/// <see cref="SafeTensors.Read(string)"/>, fill one with <c>Add</c> and write it with
/// <see cref="SafeTensors.Write(string, SafeTensorsFile)"/>. Typed access (<c>GetFloat</c>, …) is in
/// SafeTensorsFile.Typed.cs.
/// </summary>
public sealed partial class SafeTensorsFile
{
    /// <summary>The reserved header key that holds the metadata; no tensor may have this name.</summary>
    public const string MetadataKey = "__metadata__";

    readonly List<SafeTensorsEntry> _entries = [];
    readonly Dictionary<string, int> _indexByName = [];

    /// <param name="source">Where the file came from (its path); named by every error message.</param>
    public SafeTensorsFile(string? source = null) => Source = source ?? "(in memory)";

    /// <summary>The path this file was read from, or "(in memory)"; used in error messages.</summary>
    public string Source { get; }

    /// <summary>
    /// The header's <c>__metadata__</c>: string keys to string values (the format allows nothing else;
    /// structured values such as the model config are stored as JSON strings).
    /// </summary>
    public Dictionary<string, string> Metadata { get; } = [];

    /// <summary>The tensors in file order (the order they were added, or the header's order when read).</summary>
    public IReadOnlyList<SafeTensorsEntry> Entries => _entries;

    public int Count => _entries.Count;

    public IEnumerable<string> Names => _entries.Select(entry => entry.Name);

    public bool Contains(string name) => _indexByName.ContainsKey(name);

    /// <summary>The entry named <paramref name="name"/>, or null.</summary>
    public SafeTensorsEntry? Find(string name) => _indexByName.TryGetValue(name, out int index) ? _entries[index] : null;

    /// <summary>
    /// The entry named <paramref name="name"/>; a <see cref="CheckpointException"/> listing the available
    /// names when there is none.
    /// </summary>
    public SafeTensorsEntry GetEntry(string name) =>
        Find(name) ?? throw Error($"has no tensor '{name}'; it has {DescribeNames()}");

    /// <summary>Adds an entry; the name must be new and must not be <see cref="MetadataKey"/>.</summary>
    public void Add(SafeTensorsEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Name == MetadataKey)
            throw new ArgumentException($"SafeTensorsFile.Add: '{MetadataKey}' is reserved for the metadata and cannot name a tensor", nameof(entry));
        if (_indexByName.ContainsKey(entry.Name))
            throw new ArgumentException($"SafeTensorsFile.Add: {Source} already has a tensor named '{entry.Name}'", nameof(entry));
        _indexByName.Add(entry.Name, _entries.Count);
        _entries.Add(entry);
    }

    /// <summary>Adds raw little-endian bytes (owned by the file from now on, not copied).</summary>
    public void Add(string name, SafeTensorsDType dtype, int[] shape, byte[] data) => Add(new SafeTensorsEntry(name, dtype, shape, data));

    /// <summary>Adds a copy of <paramref name="tensor"/>'s values (any layout or device) as F32.</summary>
    public void Add(string name, Tensor<float> tensor) => Add(name, SafeTensorsDType.F32, tensor.Shape, ElementCodec.Encode<float>(tensor.ToArray()));

    /// <summary>
    /// Adds a copy of <paramref name="tensor"/>'s values stored as <paramref name="dtype"/>: F32 (exact),
    /// F64 (exact), or F16/BF16 (rounded to nearest even; F16 overflows to ±∞).
    /// </summary>
    public void Add(string name, Tensor<float> tensor, SafeTensorsDType dtype)
    {
        float[] values = tensor.ToArray();
        byte[] data = dtype switch
        {
            SafeTensorsDType.F32 => ElementCodec.Encode<float>(values),
            SafeTensorsDType.F64 => ElementCodec.Encode<double>(Array.ConvertAll(values, value => (double)value)),
            SafeTensorsDType.F16 or SafeTensorsDType.BF16 => ElementCodec.EncodeHalves(values, dtype),
            _ => throw new ArgumentException($"SafeTensorsFile.Add: cannot store float tensor '{name}' as {dtype}; use F32, F64, F16 or BF16", nameof(dtype)),
        };
        Add(name, dtype, tensor.Shape, data);
    }

    /// <summary>Adds a copy of <paramref name="tensor"/>'s values as F64.</summary>
    public void Add(string name, Tensor<double> tensor) => Add(name, SafeTensorsDType.F64, tensor.Shape, ElementCodec.Encode<double>(tensor.ToArray()));

    /// <summary>Adds a copy of <paramref name="tensor"/>'s values as I32.</summary>
    public void Add(string name, Tensor<int> tensor) => Add(name, SafeTensorsDType.I32, tensor.Shape, ElementCodec.Encode<int>(tensor.ToArray()));

    /// <summary>Adds a copy of <paramref name="tensor"/>'s values as I64.</summary>
    public void Add(string name, Tensor<long> tensor) => Add(name, SafeTensorsDType.I64, tensor.Shape, ElementCodec.Encode<long>(tensor.ToArray()));

    /// <summary>Removes the tensor named <paramref name="name"/>; false when there is none.</summary>
    public bool Remove(string name)
    {
        if (!_indexByName.TryGetValue(name, out int index)) return false;
        _entries.RemoveAt(index);
        _indexByName.Clear();
        for (int i = 0; i < _entries.Count; i++) _indexByName.Add(_entries[i].Name, i);
        return true;
    }

    /// <summary>"3 tensors: a, b, c" — at most 20 names, then how many more.</summary>
    string DescribeNames()
    {
        const int maxNames = 20;
        if (_entries.Count == 0) return "no tensors";
        var shown = string.Join(", ", _entries.Take(maxNames).Select(entry => entry.Name));
        string more = _entries.Count > maxNames ? $", … ({_entries.Count - maxNames} more)" : "";
        return $"{_entries.Count} tensor{(_entries.Count == 1 ? "" : "s")}: {shown}{more}";
    }

    CheckpointException Error(string problem) => new(Source, problem);

    public override string ToString() => $"SafeTensorsFile '{Source}': {DescribeNames()}";
}
