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

# cuBLAS (the GEMM baseline) through ILGPU's bindings, which load libcublas.so.12. When the system has
# none, borrow the one PyTorch's wheel ships (any 12.x or 13.x: the v2 entry points are the same).
if ! ldconfig -p 2>/dev/null | grep -q 'libcublas.so.12'; then
    cublas=$(find / -name 'libcublas.so.1[23]*' -not -path '*/proc/*' 2>/dev/null | sort | head -1)
    if [ -n "$cublas" ]; then
        mkdir -p "$work/lib"
        ln -s "$cublas" "$work/lib/libcublas.so.12"
        for dep in "$(dirname "$cublas")"/libcublasLt.so.*; do [ -e "$dep" ] && ln -sf "$dep" "$work/lib/$(basename "$dep")"; done
        export LD_LIBRARY_PATH="$work/lib:$(dirname "$cublas")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
        echo "cuBLAS: $cublas"
    fi
fi

# 1. Tests: every ILGPU kernel and every autograd op on CUDA against the CPU references, then the same on the
#    driver's OpenCL (all of it passes on PoCL since 2026-12-07; NVIDIA's OpenCL failed 200 on 2026-11-23).
#    FORGE_GPU_TESTS=cuda or opencl runs one of them; all adds the emulator fixtures (CI runs those anyway).
case "${FORGE_GPU_TESTS:-cuda+opencl}" in
    cuda) filters=("FullyQualifiedName~Cuda") ;;
    opencl) filters=("FullyQualifiedName~OpenCL") ;;
    cuda+opencl) filters=("FullyQualifiedName~Cuda" "FullyQualifiedName~OpenCL") ;;
    *) filters=("FullyQualifiedName~Forge.Tests.Ilgpu|FullyQualifiedName~Forge.Tests.Devices") ;;
esac
for filter in "${filters[@]}"; do
    name=tests; case "$filter" in *OpenCL) name=tests-opencl ;; esac
    "$forge/Forge.Tests" --filter "$filter" > "$out/$name.txt" 2>&1
    echo "tests ($filter): exit $?"; grep -E "^ *(total|failed|succeeded|skipped|duration):" "$out/$name.txt"
done

# 2. GEMM: Forge's ILGPU kernels (tiled, the default; wide, opt-in) vs cuBLAS at 1024², 2048², 4096² and at the
#    four models' shapes (BenchmarkDotNet in-process: no SDK here).
"$forge/Forge.Bench" --filter '*GpuGemm*' > "$out/gemm.txt" 2>&1
echo "gemm: exit $?"; grep -E '^\|' "$out/gemm.txt" | tail -8

# 3. Where a sorting step's time goes on the GPU (every op waited for).
"$forge/Forge.Bench" profile --case sorting --device cuda --steps 10 > "$out/profile-sorting.txt" 2>&1
echo "profile: exit $?"; head -12 "$out/profile-sorting.txt"

# 3b. The same for retrieval (the GEMM-heaviest step), with the tiled and then the wide GEMM.
for gemm in tiled wide; do
    FORGE_ILGPU_GEMM=$gemm "$forge/Forge.Bench" profile --case retrieval --device cuda --steps 10 > "$out/profile-retrieval-$gemm.txt" 2>&1
    echo "profile retrieval ($gemm GEMM): exit $?"; head -6 "$out/profile-retrieval-$gemm.txt"
done

# 3c. Attention: one group per (batch, head) pair in shared memory (the default since 2026-12-07, never timed on a
#     GPU) against the row kernels it replaced, on the sorting and LM steps.
for attention in pairs rows; do
    for case in sorting lm; do
        FORGE_ILGPU_ATTENTION=$attention "$forge/Forge.Bench" profile --case $case --device cuda --steps 10 > "$out/profile-$case-attention-$attention.txt" 2>&1
        echo "profile $case (attention $attention): exit $?"; grep -E "per step|Attention" "$out/profile-$case-attention-$attention.txt" | head -4
    done
done

# 4. Training steps on the GPU: Forge (ILGPU, CUDA) vs PyTorch eager CUDA, alternating.
python3 "$root/bench/peers/step_race.py" --device cuda --threads 1 --rounds 3 --steps 50 \
    --forge "$forge/Forge.Bench" --json "$out/race-cuda.json" > "$out/race-cuda.txt" 2>&1
echo "race: exit $?"; grep -E 'ratio|engine|forge|torch' "$out/race-cuda.txt" | tail -30
rm -rf "$work"
