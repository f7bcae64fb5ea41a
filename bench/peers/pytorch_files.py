#!/usr/bin/python3
"""Rewrites a Forge checkpoint and batch the way a PyTorch / TransformerLens user writes them.

    /usr/bin/python3 bench/peers/pytorch_files.py CKPT.safetensors BATCH.safetensors OUT_DIR
        [--mask none|bool-predictions|uint8-positions|int64-predictions] [--act-fn NAME]

Writes, in OUT_DIR, files that hold the same model and batch as the inputs, in PyTorch's natural forms:
  * model.safetensors: ``model.state_dict()`` (float32) with the config in the metadata as
    ``json.dumps(cfg, default=str)`` of a TransformerLens-style config dict: every HookedTransformerConfig
    key at its default, ``d_head = d_model / n_heads`` (a float such as 48.0), ``act_fn`` null for an
    attention-only model, ``normalization_type`` "LN" or null, ``d_vocab`` null for a continuous model
    (plus Forge's ``d_in``), ``d_vocab_out`` left out when it equals d_vocab.
  * bare.safetensors + config.json: the same weights without metadata, the config as a JSON file.
  * batch.safetensors: ``tokens`` as torch.long and ``loss_mask`` as chosen by --mask (one entry per
    prediction [batch, pos - 1], or per position [batch, pos]); continuous inputs and targets as float64.
Written with safetensors.torch.save_file when the safetensors package is installed, else with
forge_torch.write_safetensors (the same format, nothing but numpy). Forge's ``grads`` must give exactly
the gradients of the original files (tests/Forge.Tests/Peers/PyTorchFilesTests.cs).
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forge_torch  # noqa: E402  (the sibling module, found through the path above)

try:
    from safetensors.torch import save_file as _save_file
except ImportError:          # not packaged for Debian's python3: the numpy writer writes the same format
    _save_file = None


def save(tensors, path, metadata=None):
    tensors = {name: tensor.detach().contiguous() for name, tensor in tensors.items()}
    if _save_file is not None:
        _save_file(tensors, path, metadata=metadata)
    else:
        forge_torch.write_safetensors(path, {name: tensor.numpy() for name, tensor in tensors.items()}, metadata)


def transformer_lens_config(cfg, act_fn):
    """The config dict a TransformerLens user would dump for Forge's config ``cfg``."""
    attn_only = cfg["d_mlp"] is None
    d_head = cfg["d_model"] / cfg["n_heads"]          # Python's / : a float, e.g. 48.0
    assert d_head == cfg["d_head"], "the natural d_head formula must give the model's d_head"
    tl = {
        "n_layers": cfg["n_layers"], "d_model": cfg["d_model"], "n_ctx": cfg["n_ctx"], "d_head": d_head,
        "model_name": "custom", "n_heads": cfg["n_heads"], "d_mlp": cfg["d_mlp"],
        "act_fn": None if attn_only else act_fn, "d_vocab": cfg["d_vocab"], "eps": 1e-5,
        "use_attn_result": False, "use_attn_scale": True, "attn_scale": np.sqrt(d_head),
        "use_split_qkv_input": False, "use_hook_mlp_in": False, "use_attn_in": False, "use_local_attn": False,
        "ungroup_grouped_query_attention": False, "original_architecture": None, "from_checkpoint": False,
        "checkpoint_index": None, "checkpoint_label_type": None, "checkpoint_value": None, "tokenizer_name": None,
        "window_size": None, "attn_types": None, "init_mode": "gpt2",
        "normalization_type": "LN" if cfg["normalization"] == "LN" else None,
        "device": "cpu", "n_devices": 1, "attention_dir": "causal", "attn_only": attn_only, "seed": 7,
        "initializer_range": 0.8 / np.sqrt(cfg["d_model"]), "init_weights": True,
        "scale_attn_by_inverse_layer_idx": False, "positional_embedding_type": "standard", "final_rms": False,
        "parallel_attn_mlp": False, "rotary_dim": None, "n_params": 0, "use_hook_tokens": False,
        "gated_mlp": False, "default_prepend_bos": True, "dtype": torch.float32, "tokenizer_prepends_bos": None,
        "n_key_value_heads": None, "post_embedding_ln": False, "rotary_base": 10000, "trust_remote_code": False,
        "rotary_adjacent_pairs": False, "load_in_4bit": False, "num_experts": None, "experts_per_token": None,
        "relative_attention_max_distance": None, "relative_attention_num_buckets": None,
        "decoder_start_token_id": None, "tie_word_embeddings": False, "use_normalization_before_and_after": False,
        "attn_scores_soft_cap": -1.0, "output_logits_soft_cap": -1.0, "use_NTK_by_parts_rope": False,
        "NTK_by_parts_low_freq_factor": 1.0, "NTK_by_parts_high_freq_factor": 4.0, "NTK_by_parts_factor": 8.0,
    }
    if cfg.get("d_in") is not None:                    # continuous read-in: Forge's key, no vocabulary
        tl["d_in"] = cfg["d_in"]
        tl["d_vocab"] = None
        tl["d_vocab_out"] = cfg["d_vocab_out"]
    elif cfg["d_vocab_out"] != cfg["d_vocab"]:
        tl["d_vocab_out"] = cfg["d_vocab_out"]
    return tl


def natural_batch(batch, mask_form):
    if "tokens" not in batch:
        return {name: torch.from_numpy(batch[name]).double() for name in ("inputs", "targets")}
    result = {"tokens": torch.from_numpy(batch["tokens"]).long()}
    mask = torch.from_numpy(batch["loss_mask"].astype(np.float64)) if "loss_mask" in batch else None
    if mask_form != "none":
        if mask is None:
            mask = torch.ones(result["tokens"].shape, dtype=torch.float64)
        per_prediction = mask[:, :-1]                  # entry p: the prediction made at position p
        result["loss_mask"] = {
            "bool-predictions": lambda: per_prediction != 0,
            "uint8-positions": lambda: mask.to(torch.uint8),
            "int64-predictions": lambda: per_prediction.long(),
        }[mask_form]()
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("batch")
    parser.add_argument("out_dir")
    parser.add_argument("--mask", default="none", choices=("none", "bool-predictions", "uint8-positions", "int64-predictions"))
    parser.add_argument("--act-fn", default="gelu_new")
    args = parser.parse_args(argv)

    model = forge_torch.load_model(args.checkpoint, torch.float32)
    config = json.dumps(transformer_lens_config(model.cfg, args.act_fn), default=str)
    os.makedirs(args.out_dir, exist_ok=True)
    save(model.state_dict(), os.path.join(args.out_dir, "model.safetensors"), {"config": config})
    save(model.state_dict(), os.path.join(args.out_dir, "bare.safetensors"))
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        f.write(config)
    batch, _ = forge_torch.read_safetensors(args.batch)
    save(natural_batch(batch, args.mask), os.path.join(args.out_dir, "batch.safetensors"))
    writer = "safetensors.torch" if _save_file is not None else "forge_torch.write_safetensors"
    print(f"written with {writer}: {', '.join(sorted(os.listdir(args.out_dir)))}")


if __name__ == "__main__":
    main()
