#!/usr/bin/env bash
# Packs everything a GPU machine without .NET needs into artifacts/gpu.tar.xz (≈ 48 MB):
# the test suite as a self-contained executable (NUnit's runner) and Forge.Bench, both linux-x64,
# in one folder (they share the runtime and Forge's assemblies). Run from the repository root:
#   bash bench/gpu/publish.sh
# then, on the GPU machine (from the repository root, with artifacts/gpu.tar.xz carried along):
#   bash bench/gpu/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/artifacts/gpu"
rm -rf "$out" "$root/artifacts/gpu.tar.xz"
mkdir -p "$out"
dotnet publish "$root/tests/Forge.Tests" -c Release -r linux-x64 --self-contained -p:ForgeTestExe=true -o "$out/forge" -v q
dotnet publish "$root/bench/Forge.Bench" -c Release -r linux-x64 --self-contained -o "$out/forge" -v q
tar -C "$out" -cf - forge | xz -T0 -6 > "$root/artifacts/gpu.tar.xz"
rm -rf "$out"
ls -l "$root/artifacts/gpu.tar.xz"
