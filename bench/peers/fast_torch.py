"""Forge's transformer written the fast way for PyTorch eager, to race Forge's training step fairly.

forge_torch.ForgeTransformer is the *reference*: one parameter per TransformerLens name, einsum head by
head, LayerNorm and GELU written out by hand — clear, but it spends time on permuted copies and on
elementwise passes that PyTorch fuses. FastTransformer computes the same function (checked against the
reference in test_torch_steps.py) the way a tuned nanoGPT-style model would:
  * Q, K and V of all heads come from one packed weight through one F.linear (GEMM with the bias fused);
  * attention is batched matmuls on [batch, head, pos, d_head] with a cached causal mask;
  * F.layer_norm and F.gelu(approximate="tanh") are single fused kernels;
  * weights are stored [out, in] (nn.Linear's layout) so F.linear maps straight onto addmm.
Same parameter count as the reference (packing changes the layout, not the number of scalars).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class FastBlock(nn.Module):
    """Pre-LN block: resid += attn(ln1(resid)); resid += mlp(ln2(resid)) (no MLP half in attention-only models)."""

    def __init__(self, cfg, dtype):
        super().__init__()
        d, h, e, m = cfg["d_model"], cfg["n_heads"], cfg["d_head"], cfg["d_mlp"]
        self.n_heads, self.d_head = h, e
        self.ln1_w = nn.Parameter(torch.ones(d, dtype=dtype))
        self.ln1_b = nn.Parameter(torch.zeros(d, dtype=dtype))
        self.W_QKV = nn.Parameter(torch.zeros(3 * h * e, d, dtype=dtype))   # rows: Q of heads 0..h-1, then K, then V
        self.b_QKV = nn.Parameter(torch.zeros(3 * h * e, dtype=dtype))
        self.W_O = nn.Parameter(torch.zeros(d, h * e, dtype=dtype))
        self.b_O = nn.Parameter(torch.zeros(d, dtype=dtype))
        self.has_mlp = m is not None
        if self.has_mlp:
            self.ln2_w = nn.Parameter(torch.ones(d, dtype=dtype))
            self.ln2_b = nn.Parameter(torch.zeros(d, dtype=dtype))
            self.W_in = nn.Parameter(torch.zeros(m, d, dtype=dtype))
            self.b_in = nn.Parameter(torch.zeros(m, dtype=dtype))
            self.W_out = nn.Parameter(torch.zeros(d, m, dtype=dtype))
            self.b_out = nn.Parameter(torch.zeros(d, dtype=dtype))

    def attention(self, x, future):                          # x [batch, pos, d_model]
        batch, positions, _ = x.shape
        qkv = F.linear(x, self.W_QKV, self.b_QKV)            # [batch, pos, 3·head·d_head]
        qkv = qkv.view(batch, positions, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                      # each [batch, head, pos, d_head]
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.d_head))  # [batch, head, q, k]
        pattern = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
        z = torch.matmul(pattern, v).transpose(1, 2).reshape(batch, positions, -1)        # [batch, pos, head·d_head]
        return F.linear(z, self.W_O, self.b_O)

    def forward(self, resid, future):
        d = resid.shape[-1]
        resid = resid + self.attention(F.layer_norm(resid, (d,), self.ln1_w, self.ln1_b, 1e-5), future)
        if self.has_mlp:
            hidden = F.gelu(F.linear(F.layer_norm(resid, (d,), self.ln2_w, self.ln2_b, 1e-5), self.W_in, self.b_in),
                            approximate="tanh")
            resid = resid + F.linear(hidden, self.W_out, self.b_out)
        return resid


class FastTransformer(nn.Module):
    """The conventions' transformer (config dict as in forge_torch) with LayerNorm; token ids [batch, pos]
    or continuous inputs [batch, pos, d_in] → [batch, pos, d_vocab_out]."""

    def __init__(self, cfg, dtype=torch.float32):
        super().__init__()
        if cfg.get("normalization", "LN") != "LN" or cfg.get("act_fn", "gelu_new") != "gelu_new":
            raise ValueError("FastTransformer supports normalization 'LN' and act_fn 'gelu_new' only")
        self.cfg = cfg
        d = cfg["d_model"]
        self.continuous = cfg.get("d_in") is not None
        self.W_E = nn.Parameter(torch.zeros(cfg["d_in"] if self.continuous else cfg["d_vocab"], d, dtype=dtype))
        self.W_pos = nn.Parameter(torch.zeros(cfg["n_ctx"], d, dtype=dtype))
        self.blocks = nn.ModuleList(FastBlock(cfg, dtype) for _ in range(cfg["n_layers"]))
        self.ln_final_w = nn.Parameter(torch.ones(d, dtype=dtype))
        self.ln_final_b = nn.Parameter(torch.zeros(d, dtype=dtype))
        self.W_U = nn.Parameter(torch.zeros(cfg["d_vocab_out"], d, dtype=dtype))
        self.b_U = nn.Parameter(torch.zeros(cfg["d_vocab_out"], dtype=dtype))
        n = cfg["n_ctx"]
        self.register_buffer("future", torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1), persistent=False)

    def forward(self, x):
        positions = x.shape[1]
        embedded = torch.matmul(x, self.W_E) if self.continuous else F.embedding(x, self.W_E)
        resid = embedded + self.W_pos[:positions]
        future = self.future[:positions, :positions]
        for block in self.blocks:
            resid = block(resid, future)
        d = resid.shape[-1]
        return F.linear(F.layer_norm(resid, (d,), self.ln_final_w, self.ln_final_b, 1e-5), self.W_U, self.b_U)


def init_weights(model, std, seed=0):
    """Every weight matrix (names starting W_) ~ N(0, std²); biases stay 0 and LayerNorm weights 1."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.rsplit(".", 1)[-1].startswith("W_"):
                parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype) * std)


@torch.no_grad()
def from_reference(reference):
    """A FastTransformer holding exactly the weights of a forge_torch.ForgeTransformer (for the equivalence test)."""
    cfg = reference.cfg
    dtype = reference.unembed.W_U.dtype
    fast = FastTransformer(cfg, dtype)
    fast.W_E.copy_(reference.embed.W_E)
    fast.W_pos.copy_(reference.pos_embed.W_pos)
    for ref, blk in zip(reference.blocks, fast.blocks):
        a = ref.attn
        # W_Q [head, d_model, d_head] → rows (head, d_head) of an [out, in] matrix.
        blk.W_QKV.copy_(torch.cat([w.permute(0, 2, 1).reshape(-1, w.shape[1]) for w in (a.W_Q, a.W_K, a.W_V)]))
        blk.b_QKV.copy_(torch.cat([a.b_Q.reshape(-1), a.b_K.reshape(-1), a.b_V.reshape(-1)]))
        blk.W_O.copy_(a.W_O.reshape(-1, a.W_O.shape[-1]).t())    # [head·d_head, d_model] → [d_model, head·d_head]
        blk.b_O.copy_(a.b_O)
        blk.ln1_w.copy_(ref.ln1.w)
        blk.ln1_b.copy_(ref.ln1.b)
        if blk.has_mlp:
            blk.ln2_w.copy_(ref.ln2.w)
            blk.ln2_b.copy_(ref.ln2.b)
            blk.W_in.copy_(ref.mlp.W_in.t())
            blk.b_in.copy_(ref.mlp.b_in)
            blk.W_out.copy_(ref.mlp.W_out.t())
            blk.b_out.copy_(ref.mlp.b_out)
    fast.ln_final_w.copy_(reference.ln_final.w)
    fast.ln_final_b.copy_(reference.ln_final.b)
    fast.W_U.copy_(reference.unembed.W_U.t())
    fast.b_U.copy_(reference.unembed.b_U)
    return fast
