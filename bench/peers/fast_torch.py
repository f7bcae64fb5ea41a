"""Forge's transformer written the way a PyTorch user would write it, to race Forge's training step fairly.

forge_torch.ForgeTransformer is the *reference*: one parameter per TransformerLens name, einsum head by
head, LayerNorm and GELU written out by hand — clear, but slow. FastTransformer computes the same function
(checked against the reference in test_torch_steps.py) as idiomatic, tuned PyTorch eager code does it
(nanoGPT's layout):
  * nn.Embedding / nn.Linear / nn.LayerNorm / nn.GELU(approximate="tanh") modules, so every op is one
    fused ATen kernel (F.linear → addmm with the bias in the GEMM, native layer_norm, native gelu);
  * Q, K and V of all heads from one packed nn.Linear, split and viewed as [batch, head, pos, d_head];
  * attention as two batched matmuls with a cached boolean causal mask;
  * nn.Linear's [out, in] weights, which F.linear maps straight onto the GEMM.
Same parameter count as the reference (packing changes the layout, not the number of scalars). Timed
with torch.optim.Adam/AdamW at their defaults (bench/peers/torch_steps.py).
"""

import math

import torch
import torch.nn as nn


class FastBlock(nn.Module):
    """Pre-LN block: x += attn(ln1(x)); x += mlp(ln2(x)) (no MLP half in attention-only models)."""

    def __init__(self, cfg, dtype):
        super().__init__()
        d, h, e, m = cfg["d_model"], cfg["n_heads"], cfg["d_head"], cfg["d_mlp"]
        self.n_heads, self.d_head = h, e
        self.ln1 = nn.LayerNorm(d, eps=1e-5, dtype=dtype)
        self.qkv = nn.Linear(d, 3 * h * e, dtype=dtype)       # rows: Q of heads 0..h-1, then K, then V
        self.out = nn.Linear(h * e, d, dtype=dtype)
        self.has_mlp = m is not None
        if self.has_mlp:
            self.ln2 = nn.LayerNorm(d, eps=1e-5, dtype=dtype)
            self.fc = nn.Linear(d, m, dtype=dtype)
            self.act = nn.GELU(approximate="tanh")
            self.proj = nn.Linear(m, d, dtype=dtype)

    def attention(self, x, future):                           # x [batch, pos, d_model]
        batch, positions, _ = x.shape
        width = self.n_heads * self.d_head
        q, k, v = self.qkv(x).split(width, dim=2)
        q = q.view(batch, positions, self.n_heads, self.d_head).transpose(1, 2)   # [batch, head, pos, d_head]
        k = k.view(batch, positions, self.n_heads, self.d_head).transpose(1, 2)
        v = v.view(batch, positions, self.n_heads, self.d_head).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.d_head))
        pattern = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
        z = (pattern @ v).transpose(1, 2).contiguous().view(batch, positions, width)
        return self.out(z)

    def forward(self, x, future):
        x = x + self.attention(self.ln1(x), future)
        if self.has_mlp:
            x = x + self.proj(self.act(self.fc(self.ln2(x))))
        return x


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
        self.embed = (nn.Linear(cfg["d_in"], d, bias=False, dtype=dtype) if self.continuous
                      else nn.Embedding(cfg["d_vocab"], d, dtype=dtype))
        self.pos = nn.Parameter(torch.zeros(cfg["n_ctx"], d, dtype=dtype))
        self.blocks = nn.ModuleList(FastBlock(cfg, dtype) for _ in range(cfg["n_layers"]))
        self.ln_final = nn.LayerNorm(d, eps=1e-5, dtype=dtype)
        self.unembed = nn.Linear(d, cfg["d_vocab_out"], dtype=dtype)
        n = cfg["n_ctx"]
        self.register_buffer("future", torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1), persistent=False)

    def forward(self, x):
        positions = x.shape[1]
        resid = self.embed(x) + self.pos[:positions]
        future = self.future[:positions, :positions]
        for block in self.blocks:
            resid = block(resid, future)
        return self.unembed(self.ln_final(resid))


def init_weights(model, std, seed=0):
    """std a number: every weight matrix (embeddings, positions, linear weights) ~ N(0, std²), biases 0,
    LayerNorm weights 1 (GPT-2's scheme, Forge's gpt2/scaled inits). std "pytorch": the modules' own
    defaults (nn.Linear's U(±1/√fan_in), nn.Embedding's N(0, 1)), as Forge's pytorch init; positions N(0, 1)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.LayerNorm):
                module.weight.fill_(1.0)
                module.bias.zero_()
            elif isinstance(module, (nn.Linear, nn.Embedding)) and std != "pytorch":
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator, dtype=module.weight.dtype) * std)
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()
        scale = 1.0 if std == "pytorch" else std
        model.pos.copy_(torch.randn(model.pos.shape, generator=generator, dtype=model.pos.dtype) * scale)


@torch.no_grad()
def from_reference(reference):
    """A FastTransformer holding exactly the weights of a forge_torch.ForgeTransformer (for the equivalence test)."""
    cfg = reference.cfg
    dtype = reference.unembed.W_U.dtype
    fast = FastTransformer(cfg, dtype)
    w_e = reference.embed.W_E                                  # [d_in or d_vocab, d_model]
    fast.embed.weight.copy_(w_e.t() if fast.continuous else w_e)
    fast.pos.copy_(reference.pos_embed.W_pos)
    for ref, blk in zip(reference.blocks, fast.blocks):
        a = ref.attn
        # W_Q [head, d_model, d_head] → rows (head, d_head) of an [out, in] matrix.
        blk.qkv.weight.copy_(torch.cat([w.permute(0, 2, 1).reshape(-1, w.shape[1]) for w in (a.W_Q, a.W_K, a.W_V)]))
        blk.qkv.bias.copy_(torch.cat([a.b_Q.reshape(-1), a.b_K.reshape(-1), a.b_V.reshape(-1)]))
        blk.out.weight.copy_(a.W_O.reshape(-1, a.W_O.shape[-1]).t())   # [head·d_head, d_model] → [d_model, head·d_head]
        blk.out.bias.copy_(a.b_O)
        blk.ln1.weight.copy_(ref.ln1.w)
        blk.ln1.bias.copy_(ref.ln1.b)
        if blk.has_mlp:
            blk.ln2.weight.copy_(ref.ln2.w)
            blk.ln2.bias.copy_(ref.ln2.b)
            blk.fc.weight.copy_(ref.mlp.W_in.t())
            blk.fc.bias.copy_(ref.mlp.b_in)
            blk.proj.weight.copy_(ref.mlp.W_out.t())
            blk.proj.bias.copy_(ref.mlp.b_out)
    fast.ln_final.weight.copy_(reference.ln_final.w)
    fast.ln_final.bias.copy_(reference.ln_final.b)
    fast.unembed.weight.copy_(reference.unembed.W_U.t())
    fast.unembed.bias.copy_(reference.unembed.b_U)
    return fast
