namespace Forge.Models.Transformers;

/// <summary>How weight matrices are drawn at initialisation (biases start at 0, LayerNorm weights at 1).</summary>
public enum Initialization
{
    /// <summary>GPT-2: every weight matrix ~ N(0, 0.02²).</summary>
    Gpt2,
    /// <summary>The sorting paper's recipe: every weight matrix ~ N(0, (0.8/√d_model)²).</summary>
    Sorting,
    /// <summary>
    /// PyTorch's layer defaults: the token embedding ~ N(0, 1) (<c>nn.Embedding</c>), every other weight matrix
    /// ~ U(±1/√fan_in) (<c>nn.Linear</c>), the positional embedding ~ N(0, 0.02²). The large token embedding
    /// keeps a token's identity dominant in the residual stream after the first blocks write to it.
    /// </summary>
    PyTorch,
    /// <summary>As <see cref="PyTorch"/>, but the positional embedding starts as the sinusoidal code (still learned).</summary>
    PyTorchSinusoidal,
}
