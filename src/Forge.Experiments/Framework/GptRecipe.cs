using System.Text.Json.Serialization;
using Forge.Models.Transformers;

namespace Forge.Experiments.Framework;

/// <summary>
/// The settings every paper with a GPT-style model trained by AdamW shares — its size, batch, learning
/// rate, warm-up, weight decay and length — once, with defaults a paper may change in its constructor.
/// </summary>
public abstract record GptRecipe : Recipe
{
    [Setting("Transformer blocks.", Min = 1, HelpName = "N")]
    public int Layers { get; init; } = 3;

    [Setting("Attention heads per layer.", Min = 1, HelpName = "N")]
    public int Heads { get; init; } = 4;

    [Setting("Residual width.", Min = 1, HelpName = "N")]
    public int DModel { get; init; } = 64;

    [Setting("Head width.", Min = 1, HelpName = "N")]
    public int DHead { get; init; } = 16;

    [Setting("MLP hidden width.", Min = 1, HelpName = "N")]
    public int DMlp { get; init; } = 256;

    [Setting("Initial weights: gpt2 (every weight matrix ~ N(0, 0.02²)) or scaled (~ N(0, (0.8/√d_model)²), larger at small widths) or pytorch (nn.Embedding and nn.Linear defaults: token embedding ~ N(0, 1), matrices ~ U(±1/√fan_in)) or pytorch-sinusoidal (the same, the positional embedding starting as the sinusoidal code).", HelpName = "KIND")]
    public string Init { get; init; } = "gpt2";

    [Setting("Sequences per step.", Min = 1, HelpName = "N")]
    public int BatchSize { get; init; } = 256;

    [Setting("Peak learning rate of AdamW.", Option = "--lr", Min = 0, HelpName = "X")]
    public double LearningRate { get; init; } = 1e-3;

    [Setting("Steps of linear learning-rate warm-up.", Min = 0, HelpName = "N")]
    public int WarmupSteps { get; init; } = 500;

    [Setting("AdamW's decoupled weight decay.", Min = 0, HelpName = "X")]
    public double WeightDecay { get; init; } = 0.01;

    [Setting("Training steps when --steps is not given.", Min = 1, HelpName = "N")]
    public int TrainSteps { get; init; } = 12_000;

    [JsonIgnore] public Initialization Initialization => InitializationNamed(Init);

    /// <summary>The scheme an <c>--init</c> name stands for; an unknown name is an <see cref="ArgumentException"/> listing the known ones.</summary>
    public static Initialization InitializationNamed(string name) => name switch
    {
        "gpt2" => Initialization.Gpt2,
        "scaled" => Initialization.Sorting,
        "pytorch" => Initialization.PyTorch,
        "pytorch-sinusoidal" => Initialization.PyTorchSinusoidal,
        _ => throw new ArgumentException($"init '{name}' is not one of gpt2, scaled, pytorch, pytorch-sinusoidal"),
    };

    public override void Validate()
    {
        _ = Initialization;
        if (!(LearningRate > 0)) throw new ArgumentException($"lr must be positive, got {LearningRate}");
        base.Validate();
    }
}
