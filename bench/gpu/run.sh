#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (no .NET needed): unpacks artifacts/gpu.tar.xz (bench/gpu/publish.sh),
# runs the ILGPU test suite on CUDA (and the emulator), the GPU GEMM against cuBLAS, and the training
# steps of Forge (ILGPU on CUDA) and PyTorch (CUDA) alternately. Results go to $OUT (default ./gpu-results).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out="${OUT:-$root/gpu-results}"
work=$(mktemp -d)
mkdir -p "$out"
tar -C "$work" -xJf "$root/artifacts/gpu.tar.xz"
forge="$work/forge"
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true

# 1. Tests: every ILGPU kernel and every autograd op on the GPU against the CPU references.
"$forge/Forge.Tests" --filter "FullyQualifiedName~Forge.Tests.Ilgpu|FullyQualifiedName~Forge.Tests.Devices" \
    > "$out/tests.txt" 2>&1
echo "tests: exit $?"; tail -6 "$out/tests.txt"

# 2. GEMM: Forge's ILGPU tiled kernel vs cuBLAS at 1024², 2048², 4096² (BenchmarkDotNet in-process: no SDK here).
"$forge/Forge.Bench" --filter '*GpuGemm*' > "$out/gemm.txt" 2>&1
echo "gemm: exit $?"; grep -E '^\|' "$out/gemm.txt" | tail -8

# 3. Training steps on the GPU: Forge (ILGPU, CUDA) vs PyTorch eager CUDA, alternating.
python3 "$root/bench/peers/step_race.py" --device cuda --threads 1 --rounds 3 --steps 50 \
    --forge "$forge/Forge.Bench" --json "$out/race-cuda.json" > "$out/race-cuda.txt" 2>&1
echo "race: exit $?"; grep -E 'ratio|engine|forge|torch' "$out/race-cuda.txt" | tail -30
rm -rf "$work"
