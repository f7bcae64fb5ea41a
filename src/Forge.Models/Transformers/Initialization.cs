namespace Forge.Models.Transformers;

/// <summary>How weight matrices are drawn at initialisation (biases start at 0, LayerNorm weights at 1).</summary>
public enum Initialization
{
    /// <summary>GPT-2: every weight matrix ~ N(0, 0.02²).</summary>
    Gpt2,
    /// <summary>The sorting paper's recipe: every weight matrix ~ N(0, (0.8/√d_model)²).</summary>
    Sorting,
}
