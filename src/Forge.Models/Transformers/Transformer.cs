using System.Numerics;
using Forge.Autograd;
using Forge.Models.Hooks;

namespace Forge.Models.Transformers;

/// <summary>
/// The one transformer of Forge, configured by <see cref="TransformerConfig"/>: token embedding or a
/// continuous bias-free read-in, learned positions, pre-LN blocks (attention, optional MLP), optional
/// final LayerNorm, linear unembedding. Parameter and hook names follow TransformerLens. The model
/// lives on one <see cref="Device"/> (default the CPU); its inputs must live there too.
/// </summary>
public sealed class Transformer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Transformer(TransformerConfig config, Initialization init, Rng rng, Device? device = null)
        : this(config, init, rng, new ParameterSet<T>(device)) { }

    Transformer(TransformerConfig config, Initialization init, Rng rng, ParameterSet<T> parameters)
    {
        Config = config.Validate();
        Parameters = parameters;
        double std = init == Initialization.Sorting ? 0.8 / Math.Sqrt(config.DModel) : 0.02;
        // A weight matrix of the given shape that reads fanIn inputs per output.
        bool torch = init is Initialization.PyTorch or Initialization.PyTorchSinusoidal;
        Tensor<T> Weight(int[] shape, int fanIn) => torch
            ? Tensor.Uniform(rng, T.CreateChecked(-1 / Math.Sqrt(fanIn)), T.CreateChecked(1 / Math.Sqrt(fanIn)), shape)
            : Tensor.Normal(rng, T.Zero, T.CreateChecked(std), shape);

        int dIn = config.IsContinuous ? config.DIn!.Value : config.DVocab;
        // A token embedding is a look-up (PyTorch's nn.Embedding: N(0, 1)); a continuous input is read by a linear map.
        WE = Parameters.Add("embed.W_E", torch && !config.IsContinuous
            ? Tensor.Normal(rng, T.Zero, T.One, [dIn, config.DModel])
            : Weight([dIn, config.DModel], dIn));
        WPos = Parameters.Add("pos_embed.W_pos", init switch
        {
            Initialization.PyTorch => Tensor.Normal(rng, T.Zero, T.One, [config.NCtx, config.DModel]),
            Initialization.PyTorchSinusoidal => Sinusoids(config.NCtx, config.DModel),
            _ => Weight([config.NCtx, config.DModel], config.NCtx),
        });
        Blocks = Enumerable.Range(0, config.NLayers).Select(l => new TransformerBlock<T>(Parameters, config, l, Weight)).ToArray();
        LnFinal = new LayerNormLayer<T>(Parameters, config, "ln_final");
        WU = Parameters.Add("unembed.W_U", Weight([config.DModel, config.DVocabOut], config.DModel));
        BU = Parameters.Add("unembed.b_U", new Tensor<T>([config.DVocabOut]));
    }

    /// <summary>
    /// The sinusoidal position code of Vaswani et al. (2017): row p holds sin(p·ω_i), cos(p·ω_i) with
    /// ω_i = 10000^(−2i/d). Moving one position is a fixed rotation of each (sin, cos) pair, so a head can
    /// learn "the previous token" as one linear map instead of one association per position.
    /// </summary>
    public static Tensor<T> Sinusoids(int positions, int width)
    {
        var code = new Tensor<T>([positions, width]);
        var span = code.AsSpan();
        for (int p = 0; p < positions; p++)
            for (int i = 0; i < width; i++)
            {
                double omega = Math.Pow(10000, -2.0 * (i / 2) / width);
                span[p * width + i] = T.CreateChecked(i % 2 == 0 ? Math.Sin(p * omega) : Math.Cos(p * omega));
            }
        return code;
    }

    public TransformerConfig Config { get; }
    public ParameterSet<T> Parameters { get; }
    /// <summary>Where the parameters live and the forward pass runs.</summary>
    public Device Device => Parameters.Device;
    public Var<T> WE { get; }
    public Var<T> WPos { get; }
    public IReadOnlyList<TransformerBlock<T>> Blocks { get; }
    public LayerNormLayer<T> LnFinal { get; }
    public Var<T> WU { get; }
    public Var<T> BU { get; }

    /// <summary>
    /// A replica that computes with this model's weights (the same tensors: an update of either is an
    /// update of both) but keeps its own gradients, so replicas can run backward passes of different
    /// micro-batches at the same time (<see cref="Training.MicroBatchGradient{T}"/>).
    /// </summary>
    public Transformer<T> SharingWeights() =>
        new(Config, Initialization.Gpt2, new Rng(0), new ParameterSet<T>(Device, sharingValuesOf: Parameters));

    /// <summary>
    /// This model on <paramref name="device"/>: itself if it is already there, else a copy with the same
    /// weights (e.g. a model trained on a GPU, analysed on the CPU).
    /// </summary>
    public Transformer<T> ToDevice(Device device)
    {
        if (device == Device) return this;
        var copy = new Transformer<T>(Config, Initialization.Gpt2, new Rng(0), device);
        copy.Parameters.CopyFrom(Parameters);
        return copy;
    }

    /// <summary>A CPU copy in another precision: a model trained in float32, analysed in float64 (Jacobians, SVDs).</summary>
    public Transformer<TOut> Cast<TOut>() where TOut : unmanaged, IFloatingPointIeee754<TOut>
    {
        var copy = new Transformer<TOut>(Config, Initialization.Gpt2, new Rng(0));
        foreach (var (target, source) in copy.Parameters.All.Zip(Parameters.All))
        {
            if (target.Name != source.Name) throw new InvalidOperationException($"Transformer.Cast: parameter order differs ({target.Name} vs {source.Name})");
            target.Data.CopyFrom(source.Data.ToDevice(CpuDevice.Instance).Cast<TOut>());
        }
        return copy;
    }

    /// <summary>
    /// Token ids [batch, pos] → logits [batch, pos, d_vocab_out]. <paramref name="outputs"/> ([batch, pos], e.g. a loss
    /// mask) names the positions whose logits will be read, where its entry is not 0: the last block's queries,
    /// attention output and MLP, the final LayerNorm and the unembedding then run for those rows only (on the CPU; the
    /// other rows' logits are 0 there, a GPU computes them). The logits that are read, the loss and its gradient are
    /// bit for bit those of the full pass. For losses; leave it out to look at every position.
    /// </summary>
    public Var<T> Forward(Tensor<int> tokens, HookSet<T>? hooks = null, Tensor<T>? outputs = null)
    {
        if (Config.IsContinuous) throw new InvalidOperationException("Transformer: this model reads continuous inputs; call Forward(Tensor<T> inputs)");
        if (tokens.Rank != 2) throw new ShapeException("Transformer.Forward", "tokens must be [batch, pos]", tokens.Shape);
        CheckPositions(tokens.Size(1));
        CheckDevice(tokens.Device);
        CheckOutputs(outputs, tokens.Size(0), tokens.Size(1), tokens.Device);
        return Run(WE.Embedding(tokens), hooks, outputs);
    }

    /// <summary>Continuous inputs [batch, pos, d_in] → outputs [batch, pos, d_vocab_out]; <paramref name="outputs"/> as for tokens.</summary>
    public Var<T> Forward(Tensor<T> inputs, HookSet<T>? hooks = null, Tensor<T>? outputs = null)
    {
        if (!Config.IsContinuous) throw new InvalidOperationException("Transformer: this model reads tokens; call Forward(Tensor<int> tokens)");
        if (inputs.Rank != 3 || inputs.Size(2) != Config.DIn)
            throw new ShapeException("Transformer.Forward", $"inputs must be [batch, pos, d_in={Config.DIn}]", inputs.Shape);
        CheckPositions(inputs.Size(1));
        CheckDevice(inputs.Device);
        CheckOutputs(outputs, inputs.Size(0), inputs.Size(1), inputs.Device);
        return Run(Var<T>.Constant(inputs).MatMul(WE), hooks, outputs);
    }

    static void CheckOutputs(Tensor<T>? outputs, int batch, int positions, Device device)
    {
        if (outputs is null) return;
        if (outputs.Rank != 2 || outputs.Size(0) != batch || outputs.Size(1) != positions)
            throw new ShapeException("Transformer.Forward", $"outputs must be [batch={batch}, pos={positions}]", outputs.Shape);
        if (outputs.Device != device) throw new InvalidOperationException($"Transformer.Forward: outputs live on '{outputs.Device.Name}', the inputs on '{device.Name}'");
    }

    void CheckDevice(Device inputs)
    {
        if (inputs != Device) throw new InvalidOperationException($"Transformer.Forward: the inputs live on '{inputs.Name}' but the model on '{Device.Name}'; move them with ToDevice");
    }

    void CheckPositions(int positions)
    {
        if (positions > Config.NCtx) throw new ShapeException($"Transformer.Forward: {positions} positions exceed n_ctx = {Config.NCtx}");
    }

    Var<T> Run(Var<T> embedded, HookSet<T>? hooks, Tensor<T>? outputs)
    {
        int batch = embedded.Size(0), positions = embedded.Size(1);
        var embed = hooks.Hook(HookNames.Embed, embedded);
        var table = WPos.Narrow(0, 0, positions);
        // Hooks see hook_pos_embed as [batch, pos, d_model], as in TransformerLens. Without hooks the sum broadcasts the
        // table over the batch itself: the same values and gradient, without a batch-sized copy of the gradient to reduce.
        var pos = hooks is null ? table : hooks.Hook(HookNames.PosEmbed, table.Expand(batch, positions, Config.DModel));
        var residual = embed + pos;
        // Only the last block's rows at unread positions are unread: earlier blocks feed every position's keys and values.
        for (int layer = 0; layer < Blocks.Count; layer++)
            residual = Blocks[layer].Forward(residual, hooks, layer == Blocks.Count - 1 ? outputs : null);
        var normalized = hooks.Hook(HookNames.FinalNormalized, LnFinal.Forward(residual, outputs));
        return normalized.Linear(WU, BU, outputs);
    }
}
