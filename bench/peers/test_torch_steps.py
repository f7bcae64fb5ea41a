#!/usr/bin/python3
"""Checks that the PyTorch side of the step race does the same work as Forge's.

    /usr/bin/python3 bench/peers/test_torch_steps.py        (unittest; a few seconds)

* fast_torch.FastTransformer computes the same function, loss and gradients as the reference
  forge_torch.ForgeTransformer (float64, same weights), for attention-only, MLP and continuous models;
* both have the parameter count of Forge's model (training_cases.parameter_count, which matches the
  n_params Forge's `steps` prints: 49,684 / 151,169 / 59,779 / 1,328,129);
* torch_steps.py runs each case and prints the JSON fields step_race.py reads.
"""

import json
import os
import subprocess
import sys
import unittest

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fast_torch  # noqa: E402
import forge_torch  # noqa: E402
import training_cases  # noqa: E402


def small_config(d_mlp, d_in=None):
    return {"n_layers": 2, "n_heads": 3, "d_model": 12, "d_head": 4, "d_mlp": d_mlp, "n_ctx": 7,
            "d_vocab": 11, "d_vocab_out": 1 if d_in else 11, "d_in": d_in, "normalization": "LN", "act_fn": "gelu_new"}


def random_reference(cfg, seed):
    torch.manual_seed(seed)
    model = forge_torch.ForgeTransformer(cfg, torch.float64)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn_like(p) * 0.5 + (1.0 if name.endswith(".w") else 0.0))
    return model


def inputs_for(cfg, batch=5):
    if cfg["d_in"] is not None:
        return torch.randn(batch, cfg["n_ctx"], cfg["d_in"], dtype=torch.float64)
    return torch.randint(cfg["d_vocab"], (batch, cfg["n_ctx"]))


class FastMatchesReference(unittest.TestCase):
    def check(self, cfg):
        reference = random_reference(cfg, seed=3)
        fast = fast_torch.from_reference(reference)
        x = inputs_for(cfg)
        out_reference, out_fast = reference(x), fast(x)
        torch.testing.assert_close(out_fast, out_reference, rtol=1e-12, atol=1e-12)

        # Gradients: a loss of every output, then the reference's gradients rearranged into the fast
        # layout by the same (linear) map as the weights.
        probe = torch.randn_like(out_reference)
        (out_reference * probe).sum().backward()
        (out_fast * probe).sum().backward()
        with torch.no_grad():
            for p in reference.parameters():
                p.copy_(p.grad)
        expected = dict(fast_torch.from_reference(reference).named_parameters())
        for name, p in fast.named_parameters():
            torch.testing.assert_close(p.grad, expected[name], rtol=1e-11, atol=1e-12, msg=name)
        self.assertEqual(sum(p.numel() for p in fast.parameters()), sum(p.numel() for p in reference.parameters()))

    def test_attention_only(self):
        self.check(small_config(d_mlp=None))

    def test_with_mlp(self):
        self.check(small_config(d_mlp=20))

    def test_continuous(self):
        self.check(small_config(d_mlp=20, d_in=2))


class SameWorkAsForge(unittest.TestCase):
    def test_parameter_counts(self):
        # Forge's `steps` prints these n_params (TrainingCases.cs).
        forge = {"sorting": 49684, "affine": 151169, "retrieval": 59779, "lm": 1328129}
        for name, case in training_cases.CASES.items():
            self.assertEqual(training_cases.parameter_count(case["config"]), forge[name], name)
            for model in (fast_torch.FastTransformer(case["config"]), forge_torch.ForgeTransformer(case["config"])):
                self.assertEqual(sum(p.numel() for p in model.parameters()), forge[name], name)

    def test_masks(self):
        sorting = [p for p in range(21) if training_cases.counts("sorting", p, 21)]
        self.assertEqual(sorting, list(range(10, 20)))
        self.assertEqual([p for p in range(11) if training_cases.counts("answer", p, 11)], [9])
        self.assertEqual(sum(training_cases.counts("all_but_last", p, 64) for p in range(64)), 63)

    def test_cli_prints_the_json(self):
        for name in training_cases.CASES:
            result = subprocess.run([sys.executable, os.path.join(HERE, "torch_steps.py"), "--case", name,
                                     "--warmup", "0", "--warmup-seconds", "0", "--steps", "2"],
                                    capture_output=True, text=True, check=True)
            record = json.loads(result.stdout)
            self.assertEqual(record["engine"], "torch")
            self.assertEqual(record["n_params"], training_cases.parameter_count(training_cases.CASES[name]["config"]))
            self.assertEqual(len(record["step_ms"]), 2)
            self.assertGreater(record["loss_initial"], 0)
            self.assertEqual(record["allocator"], "tuned")          # the default, set by re-executing once
            self.assertGreaterEqual(record["minor_faults_per_step"], 0)

    def test_allocator_environment(self):
        import torch_steps
        start = {"PATH": "/bin", "LD_PRELOAD": "/x.so", "MALLOC_MMAP_THRESHOLD_": "1"}
        tuned = torch_steps.allocator_environment("tuned", start)
        self.assertEqual(tuned["MALLOC_MMAP_THRESHOLD_"], torch_steps.TUNED_GLIBC["MALLOC_MMAP_THRESHOLD_"])
        self.assertNotIn("LD_PRELOAD", tuned)
        self.assertEqual(tuned["PATH"], "/bin")
        self.assertEqual(tuned[torch_steps.ALLOCATOR_MARK], "tuned")
        plain = torch_steps.allocator_environment("glibc", start)
        self.assertFalse(set(torch_steps.TUNED_GLIBC) & set(plain) or "LD_PRELOAD" in plain)
        saved = torch_steps.find_library
        try:
            torch_steps.find_library = lambda name: None
            with self.assertRaises(SystemExit) as stop:
                torch_steps.allocator_environment("tcmalloc", start)
            self.assertIn("libtcmalloc-minimal4", str(stop.exception))
            torch_steps.find_library = lambda name: "/lib/" + name
            self.assertEqual(torch_steps.allocator_environment("jemalloc", start)["LD_PRELOAD"], "/lib/libjemalloc.so.2")
        finally:
            torch_steps.find_library = saved

    def test_blas_core_choice(self):
        import torch_steps
        self.assertEqual(torch_steps.best_openblas_core({"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx2", "fma"}), "SkylakeX")
        self.assertEqual(torch_steps.best_openblas_core({"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16"}), "Cooperlake")
        self.assertEqual(torch_steps.best_openblas_core({"avx2", "fma"}), "Haswell")
        self.assertIsNone(torch_steps.best_openblas_core({"sse2"}))


if __name__ == "__main__":
    unittest.main()
