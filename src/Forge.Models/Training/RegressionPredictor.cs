using System.Numerics;
using Forge.Autograd;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Models.Training;

/// <summary>
/// The outputs of a continuous-input model on a fixed set of inputs, batch by batch. The forward pass is
/// recorded once (with any interventions in <c>hooks</c>) and replayed on each batch, so predicting
/// allocates nothing per batch; a model on a device sends each batch's outputs back to the host.
/// </summary>
public sealed class RegressionPredictor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly RegressionBatch<T> _batch;
    readonly Tape<T> _tape = new();
    readonly Var<T> _outputs;
    readonly T[] _hostOutputs;

    /// <param name="positions">Positions per sequence.</param>
    /// <param name="batchSize">Sequences per forward pass.</param>
    public RegressionPredictor(Transformer<T> model, int positions, int batchSize, HookSet<T>? hooks = null)
    {
        var config = model.Config;
        _batch = new RegressionBatch<T>(batchSize, positions, config.DIn!.Value, config.DVocabOut, model.Device);
        using (_tape.Record()) _outputs = model.Forward(_batch.Inputs, hooks);
        _hostOutputs = new T[_outputs.Data.Length];
    }

    /// <summary>
    /// Predicts every sequence of <paramref name="inputs"/> ([count, positions, d_in], row-major) into
    /// <paramref name="outputs"/> ([count, positions, d_out]).
    /// </summary>
    public void Predict(ReadOnlySpan<T> inputs, Span<T> outputs)
    {
        int rowIn = _batch.HostInputs.Length / _batch.BatchSize, rowOut = _hostOutputs.Length / _batch.BatchSize;
        int count = inputs.Length / rowIn;
        if (inputs.Length % rowIn != 0 || outputs.Length != count * rowOut)
            throw new ShapeException($"RegressionPredictor.Predict: {inputs.Length} inputs and {outputs.Length} outputs do not make whole sequences of {rowIn} in and {rowOut} out");
        var hostInputs = _batch.HostInputs.AsSpan();
        for (int start = 0; start < count; start += _batch.BatchSize)
        {
            int rows = Math.Min(_batch.BatchSize, count - start);
            inputs.Slice(start * rowIn, rows * rowIn).CopyTo(hostInputs);
            hostInputs[(rows * rowIn)..].Clear();   // a short last batch: zero rows, their outputs unused
            _batch.Upload();
            _tape.Replay();
            ReadOnlySpan<T> result = _outputs.Data.Device is CpuDevice ? _outputs.Data.AsSpan() : CopyBack();
            result[..(rows * rowOut)].CopyTo(outputs.Slice(start * rowOut, rows * rowOut));
        }
    }

    T[] CopyBack()
    {
        _outputs.Data.Storage.CopyToHost(_outputs.Data.Offset, _hostOutputs);
        return _hostOutputs;
    }
}
