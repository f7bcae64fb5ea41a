"""Writes a GPT-2 checkpoint in the Hugging Face safetensors layout with random weights, its config.json, a token
batch and the logits of an independent GPT-2 forward pass — the fixture of Forge's convert-gpt2 test.

    /usr/bin/python3 bench/peers/hf_gpt2_file.py OUT_DIR [--prefix] [--seed S]

The forward follows Hugging Face's GPT-2 (modeling_gpt2): Conv1D layers compute x @ W + b with W stored
[in, out]; c_attn's output columns are q | k | v, each split into n_head heads; pre-LN blocks with eps 1e-5;
tanh GELU; causal softmax of q·k/sqrt(d_head); logits = ln_f(h) @ wte^T (tied). With --prefix the names carry
GPT2LMHeadModel's 'transformer.' and an explicit lm_head.weight. The causal-mask buffer h.{l}.attn.bias is
written too, as older files have it.
"""
import argparse
import json
import math
import os

import numpy as np
import torch

from forge_torch import write_safetensors

N_LAYER, N_HEAD, N_EMBD, N_POSITIONS, VOCAB = 2, 3, 24, 10, 37


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def layer_norm(x, w, b):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps=1e-5)


def forward(p, ids):
    t = ids.shape[1]
    h = p["wte.weight"][ids] + p["wpe.weight"][:t]
    d_head = N_EMBD // N_HEAD
    mask = torch.tril(torch.ones(t, t, dtype=torch.bool))
    for l in range(N_LAYER):
        g = lambda name: p[f"h.{l}.{name}"]
        a = layer_norm(h, g("ln_1.weight"), g("ln_1.bias"))
        qkv = a @ g("attn.c_attn.weight") + g("attn.c_attn.bias")
        q, k, v = qkv.split(N_EMBD, dim=-1)
        split = lambda x: x.view(x.shape[0], t, N_HEAD, d_head).transpose(1, 2)       # [batch, head, t, d_head]
        q, k, v = split(q), split(k), split(v)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d_head)
        scores = scores.masked_fill(~mask, float("-inf"))
        z = torch.softmax(scores, dim=-1) @ v
        merged = z.transpose(1, 2).reshape(z.shape[0], t, N_EMBD)
        h = h + merged @ g("attn.c_proj.weight") + g("attn.c_proj.bias")
        m = layer_norm(h, g("ln_2.weight"), g("ln_2.bias"))
        h = h + gelu_new(m @ g("mlp.c_fc.weight") + g("mlp.c_fc.bias")) @ g("mlp.c_proj.weight") + g("mlp.c_proj.bias")
    return layer_norm(h, p["ln_f.weight"], p["ln_f.bias"]) @ p["wte.weight"].T


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--prefix", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    d, f = N_EMBD, 4 * N_EMBD
    p = {"wte.weight": torch.randn(VOCAB, d) * 0.5, "wpe.weight": torch.randn(N_POSITIONS, d) * 0.3,
         "ln_f.weight": 1 + 0.1 * torch.randn(d), "ln_f.bias": 0.1 * torch.randn(d)}
    for l in range(N_LAYER):
        for name, shape, scale in [("ln_1.weight", (d,), None), ("ln_1.bias", (d,), 0.1), ("attn.c_attn.weight", (d, 3 * d), 0.3),
                                   ("attn.c_attn.bias", (3 * d,), 0.1), ("attn.c_proj.weight", (d, d), 0.2), ("attn.c_proj.bias", (d,), 0.1),
                                   ("ln_2.weight", (d,), None), ("ln_2.bias", (d,), 0.1), ("mlp.c_fc.weight", (d, f), 0.2),
                                   ("mlp.c_fc.bias", (f,), 0.1), ("mlp.c_proj.weight", (f, d), 0.1), ("mlp.c_proj.bias", (d,), 0.1)]:
            p[f"h.{l}.{name}"] = 1 + 0.1 * torch.randn(shape) if scale is None else scale * torch.randn(shape)
    ids = torch.randint(0, VOCAB, (2, N_POSITIONS))
    with torch.no_grad():
        logits = forward(p, ids)
    prefix = "transformer." if args.prefix else ""
    tensors = {prefix + k: v.numpy().astype(np.float32) for k, v in p.items()}
    for l in range(N_LAYER):
        tensors[f"{prefix}h.{l}.attn.bias"] = np.tril(np.ones((1, 1, N_POSITIONS, N_POSITIONS), dtype=np.float32))
    if args.prefix:
        tensors["lm_head.weight"] = p["wte.weight"].numpy().astype(np.float32)
    os.makedirs(args.out, exist_ok=True)
    write_safetensors(os.path.join(args.out, "model.safetensors"), tensors, {"format": "pt"})
    write_safetensors(os.path.join(args.out, "batch.safetensors"), {"tokens": ids.numpy().astype(np.int64), "logits": logits.numpy().astype(np.float32)})
    with open(os.path.join(args.out, "config.json"), "w") as file:
        json.dump({"model_type": "gpt2", "n_layer": N_LAYER, "n_head": N_HEAD, "n_embd": N_EMBD, "n_positions": N_POSITIONS, "vocab_size": VOCAB,
                   "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5}, file)


if __name__ == "__main__":
    main()
