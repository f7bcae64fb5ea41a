#!/usr/bin/python3
"""Compares two gradient files (Forge's ``grads`` output, grads_reference.py's, ...) tensor by tensor.

    /usr/bin/python3 bench/peers/compare_grads.py A.safetensors B.safetensors [--rtol R] [--atol A]

B is the reference. For every tensor (``loss`` included) it prints the largest absolute difference
max|a − b|, the same relative to the tensor's scale, max|a − b| / max|b|, and the scale max|b|. A tensor
agrees when

    max|a − b| ≤ atol + rtol · max|b|

Why relative to the tensor's scale and not element by element: two correct implementations differ only
in the order of their floating-point sums, and the rounding error of an element is about eps times the
size of the terms summed into it, which is the size of the tensor's typical element, not of that element.
An element whose terms cancel to almost 0 has a huge elementwise relative error (1e-2 and more in
float32) while being exactly as right as its neighbours. atol is the floor for tensors whose exact value
is 0, which then hold pure rounding noise: ∂loss/∂b_K is one (softmax ignores a constant added to every
score of a query, and q·b_K is such a constant).

Defaults, for float32 files: rtol 1e-5, atol 1e-7. Measured on the test models (bench/peers/README.md):
max|a − b| / max|b| ≤ 9e-7 (about 7 float32 epsilons) and b_K noise ≤ 1.5e-8, so the margins are ~10x
and ~7x, while any wrong formula term shows at 1e-3 or more. For float64 files: --rtol 1e-12 --atol 1e-15
(measured: 1.3e-15 and 6e-17). Bigger models sum longer and may need a larger rtol in float32.
Exit code 1 if any tensor disagrees, is missing from one file or has another shape; 0 otherwise.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forge_torch import read_safetensors  # noqa: E402

FLOAT32_RTOL, FLOAT32_ATOL = 1e-5, 1e-7
FLOAT64_RTOL, FLOAT64_ATOL = 1e-12, 1e-15


def differences(a, b):
    """(max|a − b|, max|b|) of two arrays of one shape, in float64 (NaN if either holds a NaN)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    if a.size == 0:
        return 0.0, 0.0
    return float(np.max(np.abs(a - b))), float(np.max(np.abs(b)))


def compare(path_a, path_b, rtol, atol, out=sys.stdout):
    """Prints one line per tensor and returns the number of tensors that disagree."""
    a, _ = read_safetensors(path_a)
    b, _ = read_safetensors(path_b)
    failures = 0
    for name in sorted(set(a) ^ set(b)):
        print(f"{name}: only in {path_a if name in a else path_b}", file=out)
        failures += 1
    print(f"{'tensor':<28} {'max|a-b|':>10} {'/max|b|':>10} {'max|b|':>10}  verdict", file=out)
    for name in [n for n in b if n in a]:          # B's order (the parameter order)
        if a[name].shape != b[name].shape:
            print(f"{name}: shapes differ, {a[name].shape} vs {b[name].shape}", file=out)
            failures += 1
            continue
        max_difference, scale = differences(a[name], b[name])
        ok = max_difference <= atol + rtol * scale          # False for NaN, as it should be
        failures += not ok
        relative = max_difference / scale if scale > 0 else float("inf") if max_difference > 0 else 0.0
        print(f"{name:<28} {max_difference:10.2e} {relative:10.2e} {scale:10.2e}  {'ok' if ok else 'DIFFERS'}", file=out)
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", help="gradients to check (e.g. Forge's)")
    parser.add_argument("b", help="reference gradients (e.g. PyTorch's)")
    parser.add_argument("--rtol", type=float, default=FLOAT32_RTOL, help=f"tolerance relative to each tensor's max|b| (default {FLOAT32_RTOL:g}, float32)")
    parser.add_argument("--atol", type=float, default=FLOAT32_ATOL, help=f"absolute floor (default {FLOAT32_ATOL:g}, float32)")
    args = parser.parse_args(argv)
    failures = compare(args.a, args.b, args.rtol, args.atol)
    print(f"{failures} tensor(s) differ beyond atol={args.atol:g} + rtol={args.rtol:g}·max|b|" if failures
          else f"all tensors agree within atol={args.atol:g} + rtol={args.rtol:g}·max|b|")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
