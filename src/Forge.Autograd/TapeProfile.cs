using System.Diagnostics;
using System.Numerics;

namespace Forge.Autograd;

/// <summary>
/// Where a training step's time goes: replays a recorded tape op by op and runs its backward op by op,
/// timing each call, and sums the times per op name and direction (forward, backward, zeroing of the
/// intermediate gradients). The same work as <see cref="Tape{T}.Replay"/> + <see cref="Tape{T}.Backward"/>,
/// with a clock read around every op: use it to find what to optimise, not as the step's time.
/// </summary>
public static class TapeProfile
{
    /// <summary>One row of a profile: an op name, a direction, how many calls per step and the time per step.</summary>
    public sealed record Row(string Op, string Direction, int CallsPerStep, double MillisecondsPerStep);

    /// <summary>
    /// Runs <paramref name="steps"/> profiled steps (after <paramref name="warmup"/> unprofiled ones) of
    /// forward, backward from <paramref name="loss"/> and, when given, <paramref name="update"/> (the
    /// optimizer step, timed as one row), and returns the rows, largest first. On a device that queues
    /// its work (a GPU), pass <paramref name="synchronize"/> (wait for the queue): it runs inside every
    /// timed call, so each row is the op's own device time plus its launch, not just the launch.
    /// With <paramref name="byOp"/>, every recorded op gets its own row, named "#index Name [output shape]".
    /// </summary>
    public static IReadOnlyList<Row> Measure<T>(Tape<T> tape, Var<T> loss, Action? update = null, int steps = 20, int warmup = 3,
        Action? synchronize = null, bool byOp = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        for (int i = 0; i < warmup; i++)
        {
            tape.Replay();
            tape.Backward(loss);
            update?.Invoke();
        }
        var totals = new Dictionary<(string, string), (int Calls, long Ticks)>();
        void Add(string op, string direction, long ticks)
        {
            totals.TryGetValue((op, direction), out var t);
            totals[(op, direction)] = (t.Calls + 1, t.Ticks + ticks);
        }

        var ops = tape.Ops;
        var names = ops.Select((op, i) => byOp ? $"#{i} {op.Name} [{string.Join(", ", op.Output.Shape)}]" : op.Name).ToArray();
        for (int s = 0; s < steps; s++)
        {
            for (int i = 0; i < ops.Count; i++) Add(names[i], "forward", Time(ops[i].Forward));
            synchronize?.Invoke();
            long zero = Stopwatch.GetTimestamp();
            int last = tape.PrepareBackward(loss, seed: null);   // marks intermediate gradients stale, seeds the loss's
            synchronize?.Invoke();
            Add("(prepare gradients)", "backward", Stopwatch.GetTimestamp() - zero);
            for (int i = last; i >= 0; i--)
            {
                var op = ops[i];
                if (op.Output.RequiresGrad) Add(names[i], "backward", Time(() => Tape<T>.BackwardOf(op)));
            }
            Add("(finish gradients)", "backward", Time(() => tape.FinishBackward(last)));
            if (update is not null) Add("(optimizer)", "update", Time(update));
        }
        double msPerTick = 1000.0 / Stopwatch.Frequency;
        return totals
            .Select(kv => new Row(kv.Key.Item1, kv.Key.Item2, kv.Value.Calls / steps, kv.Value.Ticks * msPerTick / steps))
            .OrderByDescending(r => r.MillisecondsPerStep)
            .ToList();

        long Time(Action action)
        {
            synchronize?.Invoke();
            long start = Stopwatch.GetTimestamp();
            action();
            synchronize?.Invoke();
            return Stopwatch.GetTimestamp() - start;
        }
    }
}
