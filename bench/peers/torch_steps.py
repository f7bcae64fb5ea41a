#!/usr/bin/python3
"""Times PyTorch (eager, CPU) training steps of the four cases of Forge's `steps` command.

    /usr/bin/python3 bench/peers/torch_steps.py --case sorting --threads 2 --warmup 20 --steps 50

Same model (training_cases.py mirrors src/Forge.Experiments/Benchmarks/TrainingCases.cs), same batch shapes,
init scale, loss and optimizer (torch.optim.Adam with weight_decay = coupled L2, torch.optim.AdamW =
decoupled). A step is zero_grad(set_to_none) → forward → loss → backward → optimizer.step(). Prints one
JSON line in the format of Forge's `steps` (alloc_bytes is null: PyTorch's allocator is not measured).

Threads: --threads sets torch.set_num_threads *and* the OpenMP/OpenBLAS thread counts through the
environment before torch is imported (this torch build calls OpenBLAS for GEMMs, and
torch.set_num_threads alone does not limit OpenBLAS's own threads).
GEMM kernels: Debian's torch calls whatever libblas.so.3 the system selects. Netlib's reference BLAS (what
python3-torch pulls in alone) is ~20× slower than OpenBLAS, so this timer refuses to run on it (install
libopenblas0-pthread). --blas-core auto (default) picks OpenBLAS's strongest kernels from the CPU's flags
(AVX-512 → SkylakeX, or Cooperlake with AVX-512 BF16; AVX2 → Haswell): OpenBLAS 0.3.21 does not recognise
newer CPUs (an Emerald Rapids Xeon under KVM is detected as "Prescott", SSE3 only: 2× slower) and some
environments pin OPENBLAS_CORETYPE=Haswell. --blas-core inherit keeps the environment's value, unset lets
OpenBLAS detect the CPU; any other value is used as OPENBLAS_CORETYPE. The JSON's blas_core is the core
OpenBLAS reports it is using.

Memory allocator: a PyTorch step frees and re-allocates its activations and gradients every step. glibc's
malloc hands large blocks back to the kernel (mmap/munmap, heap trimming) and then faults them in again:
under a hypervisor where page faults are dear this made PyTorch's step 1.5-3x slower and erratic (sorting
1 thread: 45-150 ms, 70k-460k minor faults per process). PyTorch's CPU performance guide recommends a
caching allocator; --allocator tuned (default) keeps glibc but raises its mmap/trim thresholds so freed
memory is reused, tcmalloc / jemalloc preload those libraries (Debian: libtcmalloc-minimal4, libjemalloc2),
glibc leaves malloc at its defaults. The process re-executes itself once with the environment set (the
settings must be in place before the C library starts). The JSON reports the allocator and the minor page
faults per timed step.

The step is the idiomatic PyTorch training step: zero_grad() → forward → loss → backward →
clip_grad_norm_ (where the experiment clips) → optimizer.step() → loss.item() (the experiments read the
loss every step, as Forge's trainer does). The optimizer runs at PyTorch's defaults (foreach=None) unless
--foreach says otherwise.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import training_cases  # noqa: E402  (no torch import there)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", required=True, choices=sorted(training_cases.CASES))
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads (torch, OpenMP, OpenBLAS); default 1")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps first (default 20) ...")
    parser.add_argument("--warmup-seconds", type=float, default=1.0, help="... and at least this long (default 1)")
    parser.add_argument("--steps", type=int, default=50, help="timed steps (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda: PyTorch eager on the GPU, each step synchronised")
    parser.add_argument("--impl", choices=("fast", "reference"), default="fast",
                        help="fast: fast_torch.FastTransformer (packed QKV, fused ops; default); "
                             "reference: forge_torch.ForgeTransformer (einsum per head, hand-written LN/GELU)")
    parser.add_argument("--blas-core", default="auto",
                        help="OPENBLAS_CORETYPE: auto (unset: OpenBLAS detects the CPU; default), inherit (keep the "
                             "environment's), or a core name such as SkylakeX or Haswell")
    parser.add_argument("--allocator", choices=ALLOCATORS, default="tuned",
                        help="tuned: glibc malloc with freed memory kept (default); glibc: its defaults; "
                             "tcmalloc, jemalloc: preloaded (see the module's docstring)")
    parser.add_argument("--foreach", choices=("default", "on", "off"), default="default",
                        help="the optimizer's multi-tensor (foreach) implementation; default: PyTorch's own choice")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.warmup < 0 or args.steps < 1 or args.warmup_seconds < 0:
        parser.error("--threads and --steps must be ≥ 1, --warmup and --warmup-seconds ≥ 0")
    return args


ALLOCATORS = ("tuned", "glibc", "tcmalloc", "jemalloc")
PRELOADS = {"tcmalloc": ("libtcmalloc_minimal.so.4", "libtcmalloc-minimal4"), "jemalloc": ("libjemalloc.so.2", "libjemalloc2")}
TUNED_GLIBC = {"MALLOC_MMAP_THRESHOLD_": "1073741824", "MALLOC_TRIM_THRESHOLD_": "1073741824", "MALLOC_TOP_PAD_": "268435456"}
ALLOCATOR_MARK = "FORGE_TORCH_ALLOCATOR"


def find_library(name):
    """The path of a shared library in the usual multiarch folders, or None."""
    for folder in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def allocator_environment(allocator, environ):
    """A copy of environ set up for the allocator (glibc's tuning variables or LD_PRELOAD, and the mark)."""
    env = {k: v for k, v in environ.items() if k not in TUNED_GLIBC and k != "LD_PRELOAD"}
    if allocator == "tuned":
        env.update(TUNED_GLIBC)
    elif allocator in PRELOADS:
        library, package = PRELOADS[allocator]
        path = find_library(library)
        if path is None:
            raise SystemExit(f"torch_steps: --allocator {allocator} needs {library} (Debian: apt-get install {package})")
        env["LD_PRELOAD"] = path
    env[ALLOCATOR_MARK] = allocator
    return env


def ensure_allocator(allocator):
    """Re-executes this script with the allocator's environment unless this process already has it."""
    if os.environ.get(ALLOCATOR_MARK) == allocator:
        return
    env = allocator_environment(allocator, os.environ)
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def cpu_flags():
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def best_openblas_core(flags):
    """OpenBLAS's strongest kernel set for a CPU with these flags, or None to let OpenBLAS detect it."""
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        return "Cooperlake" if "avx512_bf16" in flags else "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return None


def configure_environment(threads, blas_core):
    """Thread counts and the OpenBLAS kernel choice; must run before torch (and so OpenBLAS) is loaded."""
    if "torch" in sys.modules:
        raise RuntimeError("configure_environment must run before torch is imported")
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    if blas_core == "auto":
        core = best_openblas_core(cpu_flags())
        if core is None:
            os.environ.pop("OPENBLAS_CORETYPE", None)
        else:
            os.environ["OPENBLAS_CORETYPE"] = core
    elif blas_core == "unset":
        os.environ.pop("OPENBLAS_CORETYPE", None)
    elif blas_core != "inherit":
        os.environ["OPENBLAS_CORETYPE"] = blas_core


def check_blas(torch):
    """Exits when this torch's GEMMs would run in netlib's reference BLAS (a crippled peer)."""
    if "BLAS_INFO=generic" in torch.__config__.show() and openblas_core() == "unknown":
        sys.exit("torch_steps: this torch calls the system's libblas.so.3, which is not OpenBLAS (netlib's reference "
                 "BLAS, ~20x slower) — install OpenBLAS (Debian: apt-get install libopenblas0-pthread)")


def openblas_core():
    """The kernel set OpenBLAS uses (e.g. "Cooperlake"), or "unknown" when torch does not use OpenBLAS."""
    import ctypes
    try:
        corename = ctypes.CDLL("libblas.so.3").openblas_get_corename
        corename.restype = ctypes.c_char_p
        return corename().decode()
    except (OSError, AttributeError):
        return "unknown"


def build_step(case, impl, seed, foreach, device=None):
    """(model, inputs, loss_fn, optimizer) of one case, with random data like Forge's."""
    import torch
    import torch.nn.functional as F
    import fast_torch
    import forge_torch

    cfg, batch = case["config"], case["batch"]
    torch.manual_seed(seed)
    if impl == "fast":
        model = fast_torch.FastTransformer(cfg)
        fast_torch.init_weights(model, case["init_std"], seed)
    else:
        model = forge_torch.ForgeTransformer(cfg)
        reference_init(model, case["init_std"], seed)
    device = device or torch.device("cpu")
    model = model.to(device)
    generator = torch.Generator().manual_seed(seed + 1)
    positions = cfg["n_ctx"]

    if case["loss"] == "mse":
        inputs = (torch.rand(batch, positions, cfg["d_in"], generator=generator) * 2 - 1).to(device)
        targets = (torch.rand(batch, positions, cfg["d_vocab_out"], generator=generator) * 2 - 1).to(device)

        def loss_fn(outputs):
            return F.mse_loss(outputs, targets)
    else:
        inputs = torch.randint(cfg["d_vocab"], (batch, positions), generator=generator).to(device)
        targets = torch.randint(cfg["d_vocab_out"], (batch * positions,), generator=generator).to(device)
        row_mask = torch.tensor([1.0 if training_cases.counts(case["mask"], p, positions) else 0.0 for p in range(positions)])
        mask = row_mask.repeat(batch).to(device)            # [batch·pos], like Forge's mask tensor
        mask_sum = mask.sum()

        def loss_fn(logits):                                # Σ mask·CE / Σ mask, over every position (as Forge)
            per_position = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets, reduction="none")
            return (per_position * mask).sum() / mask_sum

    optimizer_class = torch.optim.Adam if case["optimizer"] == "adam" else torch.optim.AdamW
    optimizer = optimizer_class(model.parameters(), lr=case["lr"], weight_decay=case["weight_decay"], foreach=foreach)
    return model, inputs, loss_fn, optimizer


def reference_init(model, std, seed):
    """forge_torch.ForgeTransformer: every weight matrix (names starting W_) ~ N(0, std²) ("pytorch": std 0.02 —
    only the timing matters here); biases 0, LayerNorm weights 1."""
    import torch
    std = 0.02 if std == "pytorch" else std
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.rsplit(".", 1)[-1].startswith("W_"):
                parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype) * std)


def run(args):
    configure_environment(args.threads, args.blas_core)
    import torch
    torch.set_num_threads(args.threads)
    if args.device == "cpu":
        check_blas(torch)
    case = training_cases.CASES[args.case]
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("torch_steps: --device cuda but torch.cuda.is_available() is False")
    device = torch.device(args.device)
    foreach = {"default": None, "on": True, "off": False}[args.foreach]
    model, inputs, loss_fn, optimizer = build_step(case, args.impl, args.seed, foreach, device)
    parameters = list(model.parameters())
    clip = case.get("clip")
    n_params = sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        loss_initial = loss_fn(model(inputs)).item()

    synchronize = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(inputs))
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(parameters, clip)
        optimizer.step()
        value = loss.item()                                 # read every step, as the training loops do (synchronises a GPU)
        synchronize()                                       # a timed GPU step is a finished one
        return value

    import resource
    warmup_end = time.perf_counter() + args.warmup_seconds
    done = 0
    while done < args.warmup or time.perf_counter() < warmup_end:
        step()
        done += 1
    step_ms = []
    faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(args.steps):
        start = time.perf_counter()
        loss = step()
        step_ms.append((time.perf_counter() - start) * 1000.0)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before
    ordered = sorted(step_ms)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else 0.5 * (ordered[n // 2 - 1] + ordered[n // 2])
    return {
        "engine": "torch", "case": args.case, "threads": args.threads, "device": args.device, "n_params": n_params,
        "warmup": args.warmup, "steps": args.steps, "median_ms": round(median, 4), "min_ms": round(ordered[0], 4),
        "step_ms": [round(ms, 4) for ms in step_ms], "alloc_bytes": None,
        "loss_initial": loss_initial, "loss_last": loss,
        "runtime": f"torch {torch.__version__}", "impl": args.impl, "blas_core": openblas_core(),
        "foreach": args.foreach, "allocator": os.environ.get(ALLOCATOR_MARK, "environment"),
        "minor_faults_per_step": round(faults / args.steps, 1), "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }


def main(argv=None):
    args = parse_args(argv)
    if argv is None:
        ensure_allocator(args.allocator)
    try:
        import importlib.util
        if importlib.util.find_spec("torch") is None:
            raise ImportError
    except ImportError:
        sys.exit(f"torch_steps: PyTorch is not installed for {sys.executable} (try /usr/bin/python3)")
    print(json.dumps(run(args)), flush=True)


if __name__ == "__main__":
    main()
