#!/usr/bin/python3
"""Self-checks of forge_torch's hand-written pieces against PyTorch's own functions.

    /usr/bin/python3 bench/peers/test_forge_torch.py        (unittest; about a second)

The peer is only worth something if it is right on its own: each piece written out by hand for clarity
(LayerNorm, GELU, attention, the masked loss, the file format) is compared here with an independent
formulation, in float64.
"""

import json
import math
import os
import sys
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forge_torch as ft  # noqa: E402

CONFIG = {"n_layers": 2, "n_heads": 3, "d_model": 12, "d_head": 4, "d_mlp": 20, "n_ctx": 7,
          "d_vocab": 11, "d_vocab_out": 11, "d_in": None, "normalization": "LN", "act_fn": "gelu_new"}


def random_model(cfg, seed=0):
    torch.manual_seed(seed)
    model = ft.ForgeTransformer(cfg, torch.float64)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn_like(p) * (0.2 if name.endswith((".w", ".b")) or ".b_" in name else 0.5))
            if name.endswith(".w"):
                p.add_(1.0)
    return model


class PiecesMatchTorch(unittest.TestCase):
    def test_layer_norm_is_torch_layer_norm(self):
        ln = ft.LayerNorm(12, torch.float64)
        with torch.no_grad():
            ln.w.copy_(torch.randn(12, dtype=torch.float64))
            ln.b.copy_(torch.randn(12, dtype=torch.float64))
        x = torch.randn(2, 5, 12, dtype=torch.float64) * 3 + 1
        torch.testing.assert_close(ln(x), F.layer_norm(x, (12,), ln.w, ln.b, eps=1e-5), rtol=1e-12, atol=1e-12)

    def test_gelu_new_is_torch_tanh_gelu(self):
        x = torch.linspace(-6, 6, 1001, dtype=torch.float64)
        torch.testing.assert_close(ft.gelu_new(x), F.gelu(x, approximate="tanh"), rtol=1e-12, atol=1e-12)

    def test_attention_matches_a_loop_over_heads_and_queries(self):
        model = random_model(CONFIG)
        attn = model.blocks[0].attn
        x = torch.randn(2, 6, 12, dtype=torch.float64)
        expected = torch.zeros(2, 6, 12, dtype=torch.float64) + attn.b_O
        for b in range(2):
            for h in range(3):
                q = x[b] @ attn.W_Q[h] + attn.b_Q[h]
                k = x[b] @ attn.W_K[h] + attn.b_K[h]
                v = x[b] @ attn.W_V[h] + attn.b_V[h]
                for i in range(6):   # query i sees keys 0..i
                    weights = torch.softmax((k[: i + 1] @ q[i]) / math.sqrt(4), dim=0)
                    expected[b, i] += (weights @ v[: i + 1]) @ attn.W_O[h]
        torch.testing.assert_close(attn(x), expected, rtol=1e-12, atol=1e-12)

    def test_masked_loss_is_weighted_cross_entropy_of_the_next_token(self):
        model = random_model(CONFIG)
        tokens = np.random.default_rng(1).integers(0, 11, size=(3, 7)).astype(np.int32)
        mask = np.random.default_rng(2).integers(0, 2, size=(3, 7)).astype(np.float32)
        mask[0, 0] = 1
        logits = model(torch.from_numpy(tokens).long())
        total, count = 0.0, 0.0
        for b in range(3):
            for p in range(6):   # the last position predicts nothing
                if mask[b, p]:
                    total += F.cross_entropy(logits[b, p:p + 1], torch.tensor([int(tokens[b, p + 1])])).item()
                    count += 1
        self.assertAlmostEqual(ft.loss(model, {"tokens": tokens, "loss_mask": mask}).item(), total / count, places=12)
        unmasked = F.cross_entropy(logits[:, :-1].reshape(-1, 11), torch.from_numpy(tokens[:, 1:]).long().reshape(-1))
        self.assertAlmostEqual(ft.loss(model, {"tokens": tokens}).item(), unmasked.item(), places=12)

    def test_parameter_names_are_the_conventions(self):
        names = [n for n, _ in ft.ForgeTransformer(dict(CONFIG, n_layers=1)).named_parameters()]
        self.assertEqual(names[:4], ["embed.W_E", "pos_embed.W_pos", "blocks.0.ln1.w", "blocks.0.ln1.b"])
        self.assertIn("blocks.0.attn.W_Q", names)
        self.assertIn("blocks.0.mlp.W_out", names)
        self.assertEqual(names[-4:], ["ln_final.w", "ln_final.b", "unembed.W_U", "unembed.b_U"])
        bare = [n for n, _ in ft.ForgeTransformer(dict(CONFIG, normalization="none", d_mlp=None)).named_parameters()]
        self.assertFalse([n for n in bare if ".ln" in n or n.startswith("ln_") or ".mlp." in n])

    def test_safetensors_round_trip_keeps_scalars_dtypes_and_metadata(self):
        tensors = {"loss": np.array(1.5, dtype=np.float32), "w": np.arange(6, dtype=np.float64).reshape(2, 3),
                   "ids": np.array([[1, 2]], dtype=np.int64), "empty": np.zeros((0, 4), dtype=np.float32)}
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "t.safetensors")
            ft.write_safetensors(path, tensors, {"config": json.dumps(CONFIG)})
            with open(path, "rb") as f:
                self.assertEqual(int.from_bytes(f.read(8), "little") % 8, 0)
            back, metadata = ft.read_safetensors(path)
        self.assertEqual(list(back), list(tensors))
        for name, array in tensors.items():
            self.assertEqual(back[name].dtype, array.dtype)
            self.assertEqual(back[name].shape, array.shape)
            np.testing.assert_array_equal(back[name], array)
        self.assertEqual(json.loads(metadata["config"]), CONFIG)


if __name__ == "__main__":
    unittest.main()
