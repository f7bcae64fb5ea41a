using System.Text.RegularExpressions;

namespace Forge.Models.Hooks;

/// <summary>The hook points of the conventions (TransformerLens names) and their shapes.</summary>
public static partial class HookNames
{
    public const string Embed = "hook_embed";                 // [batch, pos, d_model]
    public const string PosEmbed = "hook_pos_embed";          // [batch, pos, d_model]
    public const string FinalNormalized = "ln_final.hook_normalized";

    public static string ResidPre(int layer) => $"blocks.{layer}.hook_resid_pre";
    public static string Ln1Normalized(int layer) => $"blocks.{layer}.ln1.hook_normalized";
    public static string Q(int layer) => $"blocks.{layer}.attn.hook_q";                   // [batch, pos, head, d_head]
    public static string K(int layer) => $"blocks.{layer}.attn.hook_k";
    public static string V(int layer) => $"blocks.{layer}.attn.hook_v";
    public static string AttnScores(int layer) => $"blocks.{layer}.attn.hook_attn_scores"; // [batch, head, query_pos, key_pos]
    public static string Pattern(int layer) => $"blocks.{layer}.attn.hook_pattern";
    public static string Z(int layer) => $"blocks.{layer}.attn.hook_z";                   // [batch, pos, head, d_head]
    public static string Result(int layer) => $"blocks.{layer}.attn.hook_result";         // [batch, pos, head, d_model]
    public static string AttnOut(int layer) => $"blocks.{layer}.hook_attn_out";
    public static string ResidMid(int layer) => $"blocks.{layer}.hook_resid_mid";
    public static string Ln2Normalized(int layer) => $"blocks.{layer}.ln2.hook_normalized";
    public static string MlpPre(int layer) => $"blocks.{layer}.mlp.hook_pre";             // [batch, pos, d_mlp]
    public static string MlpPost(int layer) => $"blocks.{layer}.mlp.hook_post";
    public static string MlpOut(int layer) => $"blocks.{layer}.hook_mlp_out";
    public static string ResidPost(int layer) => $"blocks.{layer}.hook_resid_post";

    /// <summary>Hook points with a head axis (per-head interventions apply to them).</summary>
    public static bool HasHeadAxis(string hookName) =>
        hookName.EndsWith(".hook_q") || hookName.EndsWith(".hook_k") || hookName.EndsWith(".hook_v") ||
        hookName.EndsWith(".hook_z") || hookName.EndsWith(".hook_result") ||
        hookName.EndsWith(".hook_attn_scores") || hookName.EndsWith(".hook_pattern");

    /// <summary>Index of the head axis: 1 for scores/pattern [batch, head, q, k], else 2 [batch, pos, head, …].</summary>
    public static int HeadAxis(string hookName) =>
        hookName.EndsWith(".hook_attn_scores") || hookName.EndsWith(".hook_pattern") ? 1 : 2;

    public static bool IsValid(string hookName) => hookName is Embed or PosEmbed or FinalNormalized || BlockHook().IsMatch(hookName);

    [GeneratedRegex(@"^blocks\.\d+\.(hook_resid_pre|hook_attn_out|hook_resid_mid|hook_mlp_out|hook_resid_post|ln1\.hook_normalized|ln2\.hook_normalized|attn\.hook_(q|k|v|attn_scores|pattern|z|result)|mlp\.hook_(pre|post))$")]
    private static partial Regex BlockHook();
}
