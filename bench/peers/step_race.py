#!/usr/bin/python3
"""Races Forge's training step against PyTorch's (CPU, eager) on the four cases, alternating the two.

    dotnet build bench/Forge.Bench -c Release
    /usr/bin/python3 bench/peers/step_race.py                       # all cases, 3 rounds, 30 timed steps each
    /usr/bin/python3 bench/peers/step_race.py --cases sorting --rounds 5 --steps 50 --json race.json

Every round runs, for each thread count, one Forge process (`Forge.Bench.dll steps`) and one PyTorch
process (torch_steps.py), the order flipping from round to round, so that machine noise (other jobs,
frequency changes) hits both engines alike. Per (engine, threads) the step times of all rounds are pooled;
the table shows their median, the spread of the per-round medians, and GFLOP/s of the matrix products
(training_cases.matmul_flops, the same estimate for both). PyTorch runs once per memory allocator in
--torch-allocators (torch_steps.py --allocator; default: glibc tuned to keep freed memory, and tcmalloc where
Debian's libtcmalloc-minimal4 is installed). The ratio is PyTorch's best (thread count, allocator) setting over
Forge with the most threads: > 1 means Forge is faster.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import training_cases  # noqa: E402  (no torch import there)
import torch_steps  # noqa: E402  (nor here: torch is imported inside run())

DEFAULT_FORGE = os.path.join(REPO, "bench", "Forge.Bench", "bin", "Release", "net10.0", "Forge.Bench.dll")
BUILD_COMMAND = "dotnet build bench/Forge.Bench -c Release"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(training_cases.CASES),
                        help=f"comma-separated, from {', '.join(training_cases.CASES)} (default: all)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per case (default 3)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per process (default 30)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps per process (default 10) ...")
    parser.add_argument("--warmup-seconds", type=float, default=1.0, help="... and at least this long (default 1)")
    parser.add_argument("--threads", default="1,2", help="thread counts for both engines (default 1,2)")
    parser.add_argument("--forge", default=DEFAULT_FORGE,
                        help="path to Forge.Bench.dll (default: the Release build output), or to a self-contained Forge.Bench executable")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda: both engines on the GPU (Forge through ILGPU)")
    parser.add_argument("--dotnet", default="dotnet", help="the dotnet host (default: dotnet on PATH)")
    parser.add_argument("--python", default=None,
                        help="a Python with torch for torch_steps.py (default: this one if it has torch, else /usr/bin/python3)")
    parser.add_argument("--torch-impl", choices=("fast", "reference"), default="fast", help="torch_steps.py --impl (default fast)")
    parser.add_argument("--torch-allocators", default=None,
                        help="comma-separated torch_steps.py --allocator values, each raced (default: tuned, plus tcmalloc "
                             "when libtcmalloc_minimal.so.4 is installed)")
    parser.add_argument("--json", metavar="OUT", help="write every process's JSON record and the summary here")
    args = parser.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in args.cases if c not in training_cases.CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; expected {', '.join(training_cases.CASES)}")
    try:
        args.threads = sorted({int(t) for t in args.threads.split(",")})
    except ValueError:
        parser.error(f"--threads must be comma-separated integers, got {args.threads!r}")
    if args.torch_allocators is None:
        args.torch_allocators = ["tuned"] + (["tcmalloc"] if torch_steps.find_library(torch_steps.PRELOADS["tcmalloc"][0]) else [])
    else:
        args.torch_allocators = [a.strip() for a in args.torch_allocators.split(",") if a.strip()]
        bad = [a for a in args.torch_allocators if a not in torch_steps.ALLOCATORS]
        if bad or not args.torch_allocators:
            parser.error(f"--torch-allocators: unknown {', '.join(bad) or '(none given)'}; expected {', '.join(torch_steps.ALLOCATORS)}")
    if args.rounds < 1 or args.steps < 1 or min(args.threads) < 1:
        parser.error("--rounds, --steps and every thread count must be ≥ 1")
    return args


def has_torch(python):
    try:
        return subprocess.run([python, "-c", "import torch"], capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def check_prerequisites(args):
    """Exits with a clear message when the Forge build or PyTorch is missing."""
    if not os.path.isfile(args.forge):
        sys.exit(f"step_race: no Forge build at {args.forge}\n  build it first (from the repository root): {BUILD_COMMAND}")
    if args.python is None:
        args.python = sys.executable if has_torch(sys.executable) else "/usr/bin/python3"
    if not has_torch(args.python):
        sys.exit(f"step_race: PyTorch is not importable by {args.python} (`{args.python} -c \"import torch\"` fails); "
                 f"install it or pass --python PATH to a Python that has it")


def run_process(command, label):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"step_race: {label} failed (exit code {result.returncode}):\n  {' '.join(command)}\n{result.stderr.strip()}")
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        sys.exit(f"step_race: {label} printed no JSON line:\n{result.stdout}{result.stderr}")
    return json.loads(lines[-1])


def command_for(engine, case, threads, args, allocator=None):
    common = ["--case", case, "--threads", str(threads), "--warmup", str(args.warmup),
              "--warmup-seconds", str(args.warmup_seconds), "--steps", str(args.steps), "--device", args.device]
    if engine == "forge":
        host = [args.dotnet, args.forge] if args.forge.endswith(".dll") else [args.forge]
        return host + ["steps"] + common
    return [args.python, os.path.join(HERE, "torch_steps.py"), "--impl", args.torch_impl, "--allocator", allocator] + common


def race_case(case, args, records):
    """Runs the rounds of one case; returns {(engine, threads, allocator): [per-round records]} (allocator "" for Forge)."""
    runs = {}
    for round_index in range(args.rounds):
        contenders = [("forge", "")] + [("torch", a) for a in args.torch_allocators]
        if round_index % 2:
            contenders.reverse()
        for threads in args.threads:
            for engine, allocator in contenders:
                label = f"{case} round {round_index + 1}/{args.rounds} {engine}{' ' + allocator if allocator else ''} threads {threads}"
                print(f"  {label} ...", file=sys.stderr, flush=True)
                record = run_process(command_for(engine, case, threads, args, allocator), label)
                record["round"] = round_index
                records.append(record)
                runs.setdefault((engine, threads, allocator), []).append(record)
    return runs


def summarize(case, runs, args):
    """Per (engine, threads): pooled median, per-round median spread, GFLOP/s; plus the best-thread ratio."""
    flops = training_cases.matmul_flops(training_cases.CASES[case])
    rows = {}
    for (engine, threads, allocator), records in sorted(runs.items()):
        pooled = [ms for r in records for ms in r["step_ms"]]
        round_medians = [statistics.median(r["step_ms"]) for r in records]
        median = statistics.median(pooled)
        alloc = [r["alloc_bytes"] for r in records if r.get("alloc_bytes") is not None]
        faults = [r["minor_faults_per_step"] for r in records if r.get("minor_faults_per_step") is not None]
        rows[f"{engine}/{threads}" + (f"/{allocator}" if allocator else "")] = {
            "engine": engine, "threads": threads, "allocator": allocator or None, "median_ms": median,
            "minor_faults_per_step": max(faults) if faults else None,
            "round_median_min_ms": min(round_medians), "round_median_max_ms": max(round_medians),
            "gflops": flops / (median * 1e6), "n_params": records[0]["n_params"],
            "alloc_bytes_per_step": max(alloc) / args.steps if alloc else None,
            "runtime": records[0].get("runtime"), "blas_core": records[0].get("blas_core"), "impl": records[0].get("impl"),
        }
    most = max(args.threads)
    torch_rows = [row for row in rows.values() if row["engine"] == "torch"]
    torch_best = min(torch_rows, key=lambda row: row["median_ms"])
    forge_most = rows[f"forge/{most}"]
    forge_best = min((row for row in rows.values() if row["engine"] == "forge"), key=lambda row: row["median_ms"])
    return {
        "case": case, "gflop_per_step": flops / 1e9, "rows": rows,
        "torch_best_threads": torch_best["threads"], "torch_best_allocator": torch_best["allocator"], "torch_best_ms": torch_best["median_ms"],
        "forge_threads": most, "forge_ms": forge_most["median_ms"],
        "ratio": torch_best["median_ms"] / forge_most["median_ms"],
        "forge_best_threads": forge_best["threads"], "forge_best_ms": forge_best["median_ms"],
        "ratio_best": torch_best["median_ms"] / forge_best["median_ms"],
        "same_n_params": len({row["n_params"] for row in rows.values()}) == 1,
    }


def print_summary(summary):
    case = summary["case"]
    config = training_cases.CASES[case]
    n_params = next(iter(summary["rows"].values()))["n_params"]
    print(f"\n{case}: batch {config['batch']}, {n_params:,} parameters, ≈{summary['gflop_per_step']:.2f} GFLOP of matrix products per step")
    print(f"  {'engine':<7} {'allocator':<9} {'threads':>7} {'median ms':>10} {'round medians ms':>18} {'GFLOP/s':>8} "
          f"{'alloc B/step':>12} {'faults/step':>11}")
    for row in summary["rows"].values():
        spread = f"{row['round_median_min_ms']:.2f}–{row['round_median_max_ms']:.2f}"
        alloc = "-" if row["alloc_bytes_per_step"] is None else f"{row['alloc_bytes_per_step']:.0f}"
        faults = "-" if row.get("minor_faults_per_step") is None else f"{row['minor_faults_per_step']:.0f}"
        print(f"  {row['engine']:<7} {row['allocator'] or '-':<9} {row['threads']:>7} {row['median_ms']:>10.2f} {spread:>18} "
              f"{row['gflops']:>8.1f} {alloc:>12} {faults:>11}")
    print(f"  PyTorch best: {summary['torch_best_ms']:.2f} ms ({summary['torch_best_threads']} thread(s), "
          f"allocator {summary['torch_best_allocator']}); "
          f"Forge {summary['forge_threads']} threads: {summary['forge_ms']:.2f} ms; "
          f"ratio PyTorch-best / Forge = {summary['ratio']:.2f}x")
    engines = {}
    for row in summary["rows"].values():
        extra = f" (impl {row['impl']}, OpenBLAS {row['blas_core']})" if row["engine"] == "torch" else ""
        engines.setdefault(row["engine"], f"{row['runtime']}{extra}")
    print(f"  engines: {'; '.join(engines.values())}")
    if summary["forge_best_threads"] != summary["forge_threads"]:
        print(f"  (Forge's best is {summary['forge_best_threads']} thread(s): {summary['forge_best_ms']:.2f} ms, "
              f"ratio {summary['ratio_best']:.2f}x)")
    if not summary["same_n_params"]:
        print("  WARNING: the engines report different parameter counts: they are not training the same model",
              file=sys.stderr)


def main(argv=None):
    args = parse_args(argv)
    check_prerequisites(args)
    records, summaries = [], []
    for case in args.cases:
        print(f"{case}: {args.rounds} round(s) × threads {args.threads} × (forge, torch with {', '.join(args.torch_allocators)}), "
              f"{args.steps} timed steps each", file=sys.stderr, flush=True)
        summaries.append(summarize(case, race_case(case, args, records), args))
        print_summary(summaries[-1])
        sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": {k: v for k, v in vars(args).items()}, "summaries": summaries, "records": records}, f, indent=1)
        print(f"\nraw numbers: {args.json}")


if __name__ == "__main__":
    main()
