namespace Forge.Models.Training;

/// <summary>
/// The lanes that compute a batch cut into parts (<see cref="MicroBatchGradient{T}"/>, <see cref="TokenEvaluator{T}"/>):
/// a lane is a replica of the model with buffers of its own, recorded once, onto which one part after another is
/// loaded and replayed. Parts of one kind (the same shapes) share lanes; each kind gets as many lanes as threads can use
/// at once — so the activations a pass touches are one lane's per core, not every part's.
/// <para>
/// Lanes are built on the calling thread (<see cref="Grow"/>, before the parallel work); inside it a thread
/// <see cref="Claim"/>s a lane of the part's kind that no other thread holds, computes the part, and
/// <see cref="Release"/>s it. Which lane computes a part never changes a number: lanes of a kind are identical replicas.
/// </para>
/// </summary>
internal sealed class LanePool<TLane> where TLane : class
{
    /// <summary>A lane and whether a thread holds it.</summary>
    public sealed class Slot(TLane lane)
    {
        public TLane Lane { get; } = lane;
        internal int Busy;
    }

    readonly Func<int, TLane> _newLane;
    readonly int[] _kindOf;        // part → index of its kind
    readonly int[] _firstOfKind;   // kind index → its first part (the one a new lane is built for)
    readonly int[] _partsOfKind;   // kind index → how many parts have it
    readonly Slot[][] _slots;      // kind index → its lanes

    /// <param name="kinds">Each part's kind: parts of equal kind have equal shapes.</param>
    /// <param name="newLane">Builds (and records) a lane for the parts of part c's kind.</param>
    public LanePool(IReadOnlyList<int> kinds, Func<int, TLane> newLane)
    {
        var distinct = kinds.Distinct().ToArray();
        _newLane = newLane;
        _kindOf = [.. kinds.Select(k => Array.IndexOf(distinct, k))];
        _firstOfKind = [.. distinct.Select((_, k) => Array.IndexOf(_kindOf, k))];
        _partsOfKind = [.. distinct.Select((_, k) => _kindOf.Count(p => p == k))];
        _slots = [.. distinct.Select(_ => Array.Empty<Slot>())];
    }

    /// <summary>Lanes built so far.</summary>
    public int Count => _slots.Sum(s => s.Length);

    /// <summary>
    /// Builds the lanes missing for work on <paramref name="threads"/> threads (per kind, at most one per part), on this
    /// thread; true if any was built now. Not while lanes are claimed.
    /// </summary>
    public bool Grow(int threads)
    {
        bool built = false;
        for (int k = 0; k < _slots.Length; k++)
        {
            int wanted = Math.Min(_partsOfKind[k], threads);
            if (_slots[k].Length >= wanted) continue;
            var slots = _slots[k];
            Array.Resize(ref slots, wanted);
            for (int l = _slots[k].Length; l < wanted; l++) slots[l] = new Slot(_newLane(_firstOfKind[k]));
            _slots[k] = slots;
            built = true;
        }
        return built;
    }

    /// <summary>The first lane of part <paramref name="part"/>'s kind (for work on one thread).</summary>
    public TLane First(int part) => _slots[_kindOf[part]][0].Lane;

    /// <summary>
    /// A lane of part <paramref name="part"/>'s kind that no other thread holds, held until <see cref="Release"/>. There
    /// is one per thread (<see cref="Grow"/>) and a thread holds one at a time, so one is free unless the thread count
    /// grew since; then this waits for one.
    /// </summary>
    public Slot Claim(int part)
    {
        var slots = _slots[_kindOf[part]];
        var wait = new SpinWait();
        while (true)
        {
            foreach (var slot in slots)
                if (Interlocked.CompareExchange(ref slot.Busy, 1, 0) == 0) return slot;
            wait.SpinOnce();
        }
    }

    /// <summary>Hands a claimed lane back.</summary>
    public static void Release(Slot slot) => Volatile.Write(ref slot.Busy, 0);
}
