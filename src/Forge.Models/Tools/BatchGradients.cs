using System.Numerics;
using Forge.Autograd;
using Forge.Models.Checkpoints;
using Forge.Models.Transformers;

namespace Forge.Models.Tools;

/// <summary>
/// The loss of one batch and its gradient for every parameter — what the <c>grads</c> command writes.
/// <list type="bullet">
/// <item>Token models: the batch holds <c>tokens</c> [batch, pos] (any integer dtype: I64 as PyTorch
/// writes them, I32, …) and optionally <c>loss_mask</c>, [batch, pos] (the last column ignored) or
/// [batch, pos − 1] (entry p = the prediction made at position p, of token p + 1), BOOL, integer 0/1
/// or float weights ≥ 0 (see <see cref="LossMask"/>). Loss: Σ w·CE / Σ w over the next-token
/// predictions, w = 1 for all of them without a mask; 0 (with zero gradients) when Σ w = 0.</item>
/// <item>Continuous models: <c>inputs</c> [batch, pos, d_in] and <c>targets</c> [batch, pos, d_out];
/// loss: mean squared error over all elements.</item>
/// </list>
/// The result holds a scalar <c>loss</c> and each gradient under its parameter's name.
/// </summary>
public static class BatchGradients
{
    public static SafeTensorsFile Compute<T>(Transformer<T> model, SafeTensorsFile batch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = new Tape<T>();
        Var<T> loss;
        using (tape.Record()) loss = model.Config.IsContinuous ? RegressionLoss(model, batch) : TokenLoss(model, batch);
        model.Parameters.ZeroGrad();
        tape.Backward(loss);

        var result = new SafeTensorsFile();
        result.Metadata["config"] = model.Config.ToJson();
        ModelCheckpoint.AddTensor(result, "loss", loss.Data);   // shape []: a scalar
        foreach (var p in model.Parameters.All) ModelCheckpoint.AddTensor(result, p.Name!, p.Grad);
        return result;
    }

    static Var<T> TokenLoss<T>(Transformer<T> model, SafeTensorsFile batch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // GetInt32 converts every integer dtype (PyTorch writes token ids as I64); name the others here,
        // in the batch's terms rather than the reader's.
        if (batch.Find("tokens") is { } entry && !ElementCodec.IsInteger(entry.DType))
            throw new CheckpointException(batch.Source, $"tensor 'tokens' has dtype {entry.DType}; token ids must be an integer dtype (I64, I32, …)");
        var tokens = batch.GetInt32("tokens");
        if (tokens.Rank != 2 || tokens.Size(1) < 2)
            throw new CheckpointException(batch.Source, $"'tokens' must be [batch, pos] with pos ≥ 2, got {Shape.Format(tokens.Shape)}");
        int rows = tokens.Size(0), positions = tokens.Size(1);
        foreach (int id in tokens.AsSpan())
            if ((uint)id >= (uint)model.Config.DVocab) throw new CheckpointException(batch.Source, $"'tokens' holds id {id}, outside the model's vocabulary 0..{model.Config.DVocab - 1}");

        var ids = tokens.AsSpan();
        var targets = Tensor.Zeros<int>(rows, positions);
        var mask = Tensor.Zeros<T>(rows, positions);
        double[]? weights = LossMask.PerPrediction(batch, rows, positions);   // [rows, positions − 1]
        for (int b = 0; b < rows; b++)
            for (int p = 0; p + 1 < positions; p++)
            {
                int i = b * positions + p;
                targets.AsSpan()[i] = ids[i + 1];
                mask.AsSpan()[i] = weights is null ? T.One : T.CreateChecked(weights[b * (positions - 1) + p]);
            }
        var device = model.Device;
        return model.Forward(tokens.ToDevice(device)).CrossEntropy(targets.ToDevice(device), mask.ToDevice(device));
    }

    static Var<T> RegressionLoss<T>(Transformer<T> model, SafeTensorsFile batch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inputs = Convert<T>(batch.GetDouble("inputs"));
        if (inputs.Rank != 3) throw new CheckpointException(batch.Source, $"'inputs' must be [batch, pos, d_in], got {Shape.Format(inputs.Shape)}");
        var targets = Convert<T>(batch.GetDouble("targets", [inputs.Size(0), inputs.Size(1), model.Config.DVocabOut]));
        return Functional.MseLoss(model.Forward(inputs.ToDevice(model.Device)), Var<T>.Constant(targets.ToDevice(model.Device)));
    }

    static Tensor<T> Convert<T>(Tensor<double> t) where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? (Tensor<T>)(object)t : t.Cast<T>();
}
