"""The four timed training steps, as data (no torch import, so step_race.py can read it anywhere).

Mirror of src/Forge.Experiments/Benchmarks/TrainingCases.cs: the same model configs (the conventions' keys),
batch sizes, init scales, loss masks and optimizers. Keep the two in sync.
"""

import math


def _config(n_layers, n_heads, d_model, d_head, d_mlp, n_ctx, d_vocab, d_vocab_out, d_in=None):
    return {"n_layers": n_layers, "n_heads": n_heads, "d_model": d_model, "d_head": d_head, "d_mlp": d_mlp,
            "n_ctx": n_ctx, "d_vocab": d_vocab, "d_vocab_out": d_vocab_out, "d_in": d_in,
            "normalization": "LN", "act_fn": "gelu_new"}


# The four cases are the default models of Forge's four experiments (TrainingCases.cs builds them from the
# experiments' recipes), with the experiments' batch sizes, inits, loss masks, optimizers and clipping.
# loss: "ce" = masked cross-entropy, Σ mask·CE / Σ mask; "mse" = mean squared error over all outputs.
# mask: which prediction positions count — "sorting" (10..19: the predictions at SEP and b_1..b_9),
#       "answer" (retrieval: the query's name, position n_ctx − 2), "all_but_last" (every prediction with a
#       next token in the window).
# optimizer: "adam" = torch.optim.Adam (coupled L2 weight decay), "adamw" = torch.optim.AdamW (decoupled).
# init_std: every weight matrix ~ N(0, init_std²), biases 0, LayerNorm weights 1; "pytorch": the modules' defaults.
# clip: global gradient-norm clipping before the update (None: none).
CASES = {
    "sorting": dict(config=_config(1, 2, 96, 48, None, 21, 52, 52), batch=512, init_std=0.8 / math.sqrt(96),
                    loss="ce", mask="sorting", optimizer="adam", lr=1e-3, weight_decay=0.005, clip=None),
    "affine": dict(config=_config(3, 4, 64, 16, 256, 15, 1, 1, d_in=1), batch=256, init_std=0.02,
                   loss="mse", mask=None, optimizer="adamw", lr=1e-3, weight_decay=0.01, clip=1.0),
    "retrieval": dict(config=_config(3, 4, 64, 16, None, 11, 67, 67), batch=128, init_std="pytorch",
                      loss="ce", mask="answer", optimizer="adamw", lr=1e-3, weight_decay=0.01, clip=None),
    "lm": dict(config=_config(4, 4, 128, 32, 512, 64, 2049, 2049), batch=32, init_std=0.02,
               loss="ce", mask="all_but_last", optimizer="adamw", lr=1e-3, weight_decay=0.1, clip=None),
}


def counts(mask, position, positions):
    """Whether the prediction made at `position` counts in the loss."""
    if mask == "sorting":
        return 10 <= position < 20
    if mask == "answer":
        return position == positions - 2
    if mask == "all_but_last":
        return position < positions - 1
    raise ValueError(f"unknown mask {mask!r}")


def parameter_count(cfg):
    """Trainable scalars of Forge's transformer with this config (embedding, positions, blocks, final LN, unembedding)."""
    d, h, e, m = cfg["d_model"], cfg["n_heads"], cfg["d_head"], cfg["d_mlp"]
    rows = cfg["d_in"] if cfg["d_in"] is not None else cfg["d_vocab"]
    attention = 4 * h * d * e + 3 * h * e + d
    mlp = 0 if m is None else 2 * d * m + m + d + 2 * d        # W_in, b_in, W_out, b_out, ln2
    block = 2 * d + attention + mlp                            # ln1 + attention (+ ln2 + MLP)
    return rows * d + cfg["n_ctx"] * d + cfg["n_layers"] * block + 2 * d + d * cfg["d_vocab_out"] + cfg["d_vocab_out"]


def matmul_flops(case):
    """Multiply-add FLOPs (2 per MAC) of one training step's matrix products: forward + 2× for backward.

    Counts the read-in (continuous models), Q/K/V/O, the full (unmasked) score and pattern·V products,
    the MLP and the unembedding; elementwise work (LayerNorm, softmax, GELU, Adam) is left out. An
    estimate for GFLOP/s columns, the same for both engines.
    """
    cfg, batch = case["config"], case["batch"]
    d, h, e, m, p = cfg["d_model"], cfg["n_heads"], cfg["d_head"], cfg["d_mlp"], cfg["n_ctx"]
    tokens = batch * p
    forward = 0
    if cfg["d_in"] is not None:
        forward += 2 * tokens * cfg["d_in"] * d
    per_layer = 2 * tokens * d * (4 * h * e) + 2 * 2 * batch * h * p * p * e
    if m is not None:
        per_layer += 2 * 2 * tokens * d * m
    forward += cfg["n_layers"] * per_layer + 2 * tokens * d * cfg["d_vocab_out"]
    return 3 * forward
