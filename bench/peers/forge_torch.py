"""An independent PyTorch implementation of Forge's transformer, for checking Forge's gradients.

Everything here is written from the conventions (/work/shared/conventions.md and the project docs),
not translated from Forge's C#: if the two agree to float32 precision, both are very likely right.

Contents
  * read_safetensors / write_safetensors: the safetensors format with nothing but numpy
    (8-byte little-endian header length, a JSON header, then raw little-endian tensor data).
  * ForgeTransformer: the model, with modules arranged so that ``model.named_parameters()`` yields
    exactly the TransformerLens names of the checkpoints (``blocks.0.attn.W_Q``, ...).
  * load_model / loss: build a model from a Forge checkpoint; the loss of the ``grads`` command.

Shapes are written as [batch, pos, ...] next to the tensors. No TransformerLens dependency.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn as nn

# --------------------------------------------------------------------------------------------------
# safetensors with numpy
# --------------------------------------------------------------------------------------------------

# The format's dtype names and the numpy types holding them (little-endian, as the format requires).
_NUMPY_TYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
_FORMAT_NAMES = {dtype: name for name, dtype in _NUMPY_TYPES.items()}


def read_safetensors(path):
    """Returns (tensors, metadata): a dict name -> numpy array (in header order) and the string metadata.

    BF16 tensors (which numpy lacks) come back as float32: a bfloat16 is the top half of a float32.
    """
    with open(path, "rb") as f:
        raw = f.read()
    header_length = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + header_length].decode("utf-8"))
    data = memoryview(raw)[8 + header_length:]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        if entry["dtype"] == "BF16":
            halves = np.frombuffer(data[begin:end], dtype="<u2").astype(np.uint32) << 16
            array = halves.view(np.float32)
        else:
            array = np.frombuffer(data[begin:end], dtype=_NUMPY_TYPES[entry["dtype"]])
        tensors[name] = array.reshape(shape).copy()   # copy: writable, not tied to the file buffer
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes a dict name -> numpy array (in the dict's order); metadata is a dict of strings.

    The header is padded with spaces to a multiple of 8 bytes (so the data is aligned), and the file
    is written to a temporary name and renamed, so a killed run never leaves half a file behind.
    """
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, array in tensors.items():
        array = np.array(array, order="C", copy=False)   # keeps 0-d arrays 0-d (ascontiguousarray would not)
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        dtype = _FORMAT_NAMES[np.dtype(little.dtype.str.replace(">", "<"))]
        payload = little.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(payload)]}
        chunks.append(payload)
        offset += len(payload)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    temporary = path + ".tmp"
    with open(temporary, "wb") as f:
        f.write(len(header_bytes).to_bytes(8, "little"))
        f.write(header_bytes)
        for payload in chunks:
            f.write(payload)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


# --------------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------------
# Each module owns the parameters under its TransformerLens prefix, so that the nn.Module attribute
# path *is* the checkpoint name: model.blocks[0].attn.W_Q is "blocks.0.attn.W_Q". Parameters are
# created empty (zeros); load_model fills them from a checkpoint.

def gelu_new(x):
    """GPT-2's GELU, the tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


class LayerNorm(nn.Module):
    """(x − mean) / sqrt(var + 1e-5) · w + b over the last axis, with the biased variance."""

    def __init__(self, d_model, dtype):
        super().__init__()
        self.w = nn.Parameter(torch.ones(d_model, dtype=dtype))
        self.b = nn.Parameter(torch.zeros(d_model, dtype=dtype))

    def forward(self, x):                                   # x [batch, pos, d_model]
        centered = x - x.mean(dim=-1, keepdim=True)
        variance = (centered ** 2).mean(dim=-1, keepdim=True)    # biased: divide by d_model
        return centered / torch.sqrt(variance + 1e-5) * self.w + self.b


class Attention(nn.Module):
    """Causal multi-head attention written head by head with einsum (row vectors: q = x·W_Q[h] + b_Q[h])."""

    def __init__(self, cfg, dtype):
        super().__init__()
        h, d, e = cfg["n_heads"], cfg["d_model"], cfg["d_head"]
        # Registration order = Forge's creation order, so gradient files list tensors in the same order.
        self.W_Q = nn.Parameter(torch.zeros(h, d, e, dtype=dtype))
        self.W_K = nn.Parameter(torch.zeros(h, d, e, dtype=dtype))
        self.W_V = nn.Parameter(torch.zeros(h, d, e, dtype=dtype))
        self.W_O = nn.Parameter(torch.zeros(h, e, d, dtype=dtype))
        self.b_Q = nn.Parameter(torch.zeros(h, e, dtype=dtype))
        self.b_K = nn.Parameter(torch.zeros(h, e, dtype=dtype))
        self.b_V = nn.Parameter(torch.zeros(h, e, dtype=dtype))
        self.b_O = nn.Parameter(torch.zeros(d, dtype=dtype))
        self.d_head = e

    def forward(self, x):                                   # x [batch, pos, d_model]
        q = torch.einsum("bpd,hde->bphe", x, self.W_Q) + self.b_Q    # [batch, pos, head, d_head]
        k = torch.einsum("bpd,hde->bphe", x, self.W_K) + self.b_K
        v = torch.einsum("bpd,hde->bphe", x, self.W_V) + self.b_V
        scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(self.d_head)  # [batch, head, q_pos, k_pos]
        positions = x.shape[1]
        future = torch.triu(torch.ones(positions, positions, dtype=torch.bool, device=x.device), diagonal=1)
        scores = scores.masked_fill(future, float("-inf"))  # a query sees only keys at or before it
        pattern = torch.softmax(scores, dim=-1)
        z = torch.einsum("bhqk,bkhe->bqhe", pattern, v)      # [batch, pos, head, d_head]
        return torch.einsum("bqhe,hem->bqm", z, self.W_O) + self.b_O   # Σ over heads of z_h·W_O[h], + b_O


class MLP(nn.Module):
    """gelu_new(x·W_in + b_in)·W_out + b_out."""

    def __init__(self, cfg, dtype):
        super().__init__()
        d, m = cfg["d_model"], cfg["d_mlp"]
        self.W_in = nn.Parameter(torch.zeros(d, m, dtype=dtype))
        self.b_in = nn.Parameter(torch.zeros(m, dtype=dtype))
        self.W_out = nn.Parameter(torch.zeros(m, d, dtype=dtype))
        self.b_out = nn.Parameter(torch.zeros(d, dtype=dtype))

    def forward(self, x):
        return gelu_new(x @ self.W_in + self.b_in) @ self.W_out + self.b_out


class Block(nn.Module):
    """Pre-LN block: resid_mid = resid_pre + attn(ln1(resid_pre)); resid_post = resid_mid + mlp(ln2(resid_mid))."""

    def __init__(self, cfg, dtype):
        super().__init__()
        layer_norm = cfg["normalization"] == "LN"
        # Without normalization there are no ln parameters at all (the checkpoint has none), so the
        # attributes are simply None and the layer is the identity.
        self.ln1 = LayerNorm(cfg["d_model"], dtype) if layer_norm else None
        self.attn = Attention(cfg, dtype)
        has_mlp = cfg.get("d_mlp") is not None
        self.ln2 = LayerNorm(cfg["d_model"], dtype) if layer_norm and has_mlp else None
        self.mlp = MLP(cfg, dtype) if has_mlp else None

    def forward(self, resid):
        resid = resid + self.attn(_maybe(self.ln1, resid))
        if self.mlp is not None:
            resid = resid + self.mlp(_maybe(self.ln2, resid))
        return resid


def _maybe(layer, x):
    return x if layer is None else layer(x)


class _Holder(nn.Module):
    """A module that just holds named parameters (embed.W_E, pos_embed.W_pos, unembed.W_U/b_U)."""

    def __init__(self, **parameters):
        super().__init__()
        for name, value in parameters.items():
            setattr(self, name, nn.Parameter(value))


class ForgeTransformer(nn.Module):
    """Forge's transformer from a config dict (the conventions' keys: n_layers, n_heads, d_model, d_head,
    d_mlp, n_ctx, d_vocab, d_vocab_out, d_in, normalization, act_fn).

    Token models take ids [batch, pos] (embed.W_E is [d_vocab, d_model]); continuous models take real
    inputs [batch, pos, d_in] multiplied by W_E [d_in, d_model] (no bias). Output: [batch, pos, d_vocab_out].
    """

    def __init__(self, cfg, dtype=torch.float32):
        super().__init__()
        if cfg.get("act_fn", "gelu_new") != "gelu_new":
            raise ValueError(f"act_fn {cfg['act_fn']!r} is not supported (only 'gelu_new')")
        if cfg.get("normalization", "LN") not in ("LN", "none"):
            raise ValueError(f"normalization {cfg['normalization']!r} must be 'LN' or 'none'")
        cfg = dict(cfg, normalization=cfg.get("normalization", "LN"))
        self.cfg = cfg
        d = cfg["d_model"]
        self.continuous = cfg.get("d_in") is not None
        rows = cfg["d_in"] if self.continuous else cfg["d_vocab"]
        self.embed = _Holder(W_E=torch.zeros(rows, d, dtype=dtype))
        self.pos_embed = _Holder(W_pos=torch.zeros(cfg["n_ctx"], d, dtype=dtype))
        self.blocks = nn.ModuleList(Block(cfg, dtype) for _ in range(cfg["n_layers"]))
        self.ln_final = LayerNorm(d, dtype) if cfg["normalization"] == "LN" else None
        self.unembed = _Holder(W_U=torch.zeros(d, cfg["d_vocab_out"], dtype=dtype),
                               b_U=torch.zeros(cfg["d_vocab_out"], dtype=dtype))

    def forward(self, x):
        if self.continuous:
            embedded = x.to(self.embed.W_E.dtype) @ self.embed.W_E           # [batch, pos, d_in]·[d_in, d_model]
        else:
            embedded = self.embed.W_E[x]                                      # row lookup: [batch, pos, d_model]
        positions = x.shape[1]
        if positions > self.cfg["n_ctx"]:
            raise ValueError(f"{positions} positions exceed n_ctx = {self.cfg['n_ctx']}")
        resid = embedded + self.pos_embed.W_pos[:positions]
        for block in self.blocks:
            resid = block(resid)
        return _maybe(self.ln_final, resid) @ self.unembed.W_U + self.unembed.b_U


def load_model(checkpoint_path, dtype=torch.float32, config=None):
    """A ForgeTransformer with every parameter from a Forge checkpoint (cast to dtype).

    The config comes from the checkpoint's ``config`` metadata unless given (a dict). Missing or extra
    parameters and wrong shapes are errors (load_state_dict with strict=True checks both).
    """
    tensors, metadata = read_safetensors(checkpoint_path)
    if config is None:
        if "config" not in metadata:
            raise ValueError(f"{checkpoint_path}: no 'config' in the metadata; pass the config explicitly")
        config = json.loads(metadata["config"])
    model = ForgeTransformer(config, dtype)
    state = {name: torch.from_numpy(tensors[name]).to(dtype) for name, _ in model.named_parameters() if name in tensors}
    model.load_state_dict(state, strict=True)
    return model


# --------------------------------------------------------------------------------------------------
# the loss of the grads command
# --------------------------------------------------------------------------------------------------

def loss(model, batch):
    """The loss the ``grads`` command differentiates, from a batch dict of numpy arrays.

    Token models: ``tokens`` [batch, pos] and optionally ``loss_mask``, [batch, pos] (the last column
    ignored) or [batch, pos − 1], bool, integer 0/1 or float weights. The prediction made at position p
    (logits[:, p]) is scored against tokens[:, p + 1]; its weight is loss_mask[:, p] (1 = counts), or 1
    without a mask. Loss = Σ weight·cross-entropy / Σ weight.
    Continuous models: ``inputs`` [batch, pos, d_in], ``targets`` [batch, pos, d_vocab_out];
    loss = mean of (output − target)² over all elements.
    """
    dtype = model.unembed.W_U.dtype
    if model.continuous:
        outputs = model(torch.from_numpy(batch["inputs"]).to(dtype))
        targets = torch.from_numpy(batch["targets"]).to(dtype).reshape(outputs.shape)
        return ((outputs - targets) ** 2).mean()

    tokens = torch.from_numpy(batch["tokens"].astype(np.int64))
    logits = model(tokens)                                                # [batch, pos, vocab]
    log_probs = torch.log_softmax(logits[:, :-1], dim=-1)                # predictions with a next token
    next_tokens = tokens[:, 1:]
    token_loss = -log_probs.gather(-1, next_tokens.unsqueeze(-1)).squeeze(-1)   # [batch, pos − 1]
    if "loss_mask" in batch:
        # Both layouts share their first pos − 1 columns: entry p weighs the prediction made at p.
        weight = torch.from_numpy(batch["loss_mask"].astype(np.float64)).to(dtype)[:, :token_loss.shape[1]]
    else:
        weight = torch.ones_like(token_loss)
    total_weight = weight.sum()
    weighted = (weight * token_loss).sum()
    # Like Forge, a batch with nothing counted has loss 0 (and zero gradients) rather than 0/0 = NaN.
    return weighted / total_weight if total_weight.item() != 0 else weighted * 0
