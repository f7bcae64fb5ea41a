#!/usr/bin/env bash
# A/B of two Forge.Bench builds on one training step, alternating A and B so that both see the same machine
# noise (docs/performance.md: only same-run comparisons count on a shared box). Prints each round's median
# step time per side, then the median of the round medians.
#
#   bash bench/ab-steps.sh DIR_A DIR_B CASE [ROUNDS] [STEPS] [THREADS]
#
# DIR_A, DIR_B: folders holding a built Forge.Bench.dll (e.g. a worktree of the base commit built with
# `dotnet build bench/Forge.Bench -c Release`, and bench/Forge.Bench/bin/Release/net10.0 of this one).
# CASE: sorting, affine, retrieval or lm. Defaults: 6 rounds, 100 steps, 2 threads.
set -euo pipefail
if [ $# -lt 3 ]; then sed -n 2,11p "$0" | sed 's/^# \{0,1\}//'; exit 2; fi
a=$1 b=$2 case=$3 rounds=${4:-6} steps=${5:-100} threads=${6:-2}
for dir in "$a" "$b"; do
    [ -f "$dir/Forge.Bench.dll" ] || { echo "ab-steps: no Forge.Bench.dll in $dir" >&2; exit 2; }
done
declare -A all=([A]="" [B]="")
for round in $(seq 1 "$rounds"); do
    for side in A B; do
        dir=$a; [ "$side" = B ] && dir=$b
        median=$(dotnet "$dir/Forge.Bench.dll" steps --case "$case" --threads "$threads" --warmup 10 --steps "$steps" \
            | grep -oE '"median_ms":[0-9.]+' | cut -d: -f2)
        echo "round $round $side $median ms"
        all[$side]="${all[$side]} $median"
    done
done
for side in A B; do
    echo "$side median of round medians: $(echo ${all[$side]} | tr ' ' '\n' | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}') ms"
done
