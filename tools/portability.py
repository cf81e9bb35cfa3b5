"""Check that the stored notebook outputs hold on other machines (``make portability``).

Float32 arithmetic gives different last bits on different CPUs: the BLAS kernel
(OpenBLAS picks one per CPU, MKL likewise), the SIMD width of ``tanh`` in NumPy
and in PyTorch, oneDNN's instruction set and the number of threads all change
the order of operations. A stored output that prints such bits passes on the
machine that wrote it and fails on the next one. This tool emulates other
machines on this one through the libraries' own switches and runs, for each
variant:

* ``nbval``: ``pytest --nbval`` over the notebooks (the comparison CI makes);
* ``execute`` (with ``--execute``): every notebook re-executed as ``make
  execute`` does, and the result compared byte for byte with the file on disk
  (PNG figures included), so that ``make execute`` on that machine would leave
  ``git status`` clean.

Usage::

    python tools/portability.py                      # every variant, nbval
    python tools/portability.py --execute            # every variant, nbval and execute
    python tools/portability.py native old-x86       # only these variants
    python tools/portability.py --list               # the variants and their settings
    python tools/portability.py avx2 --paths book/part1/ch04_rnn_from_scratch.ipynb

Exit status 0 when every check of every variant passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# NumPy refuses to disable its baseline (X86_V2 in NumPy 2.x), so "old x86" means
# SSE4.2 for NumPy's own loops while OpenBLAS, MKL and ATen go down to their most
# generic kernels.
_NO_AVX512 = {
    "OPENBLAS_CORETYPE": "Haswell",
    "MKL_CBWR": "AVX2",
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
}
_OLD_X86 = {
    "OPENBLAS_CORETYPE": "Prescott",
    "MKL_CBWR": "COMPATIBLE",
    "ATEN_CPU_CAPABILITY": "default",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
}


def _threads(n: int) -> dict[str, str]:
    return {name: str(n) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}


#: Each variant: the environment it sets on top of the Makefile's, and what it stands for.
VARIANTS: dict[str, tuple[dict[str, str], str]] = {
    "native": ({}, "this machine as it is (2 threads)"),
    "avx2": (_NO_AVX512, "an x86-64 without AVX-512"),
    "old-x86": ({**_OLD_X86, **_threads(1)}, "an old x86 (SSE only), one thread"),
    "threads-1": (_threads(1), "one thread"),
    "threads-4": (_threads(4), "four threads"),
}

# The Makefile's environment (execute_notebooks.py sets the same for its kernels).
BASE_ENV = {
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "Agg",
    "TQDM_DISABLE": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    **_threads(2),
}


def variant_env(name: str) -> dict[str, str]:
    """The full process environment for variant ``name``."""
    settings, _ = VARIANTS[name]
    env = dict(os.environ)
    # Settings this machine may carry (OPENBLAS_CORETYPE on some CPUs) would
    # otherwise leak into the native variant.
    for key in {*_NO_AVX512, *_OLD_X86}:
        env.pop(key, None)
    env.update(BASE_ENV)
    env.update(settings)
    return env


def _run(label: str, cmd: list[str], env: dict[str, str]) -> bool:
    start = time.perf_counter()
    print(f"--- {label}: {' '.join(cmd[1:])}", flush=True)
    ok = subprocess.run(cmd, cwd=REPO, env=env).returncode == 0
    print(
        f"--- {label}: {'ok' if ok else 'FAILED'} ({time.perf_counter() - start:.0f} s)", flush=True
    )
    return ok


def check_nbval(name: str, paths: Sequence[str]) -> bool:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval",
        "--nbval-sanitize-with",
        "tools/nbval_sanitize.cfg",
        "-p",
        "no:randomly",
        "-q",
        "--no-header",
        *paths,
    ]
    return _run(f"{name} nbval", cmd, variant_env(name))


def check_execute(name: str, paths: Sequence[str]) -> bool:
    cmd = [sys.executable, "tools/execute_notebooks.py", "--check", *paths]
    return _run(f"{name} execute", cmd, variant_env(name))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", help=f"variants (default: all of {list(VARIANTS)})")
    parser.add_argument("--execute", action="store_true", help="also re-execute and compare bytes")
    parser.add_argument("--list", action="store_true", help="print the variants and exit")
    parser.add_argument(
        "--paths", nargs="+", default=["book"], help="notebooks or folders (default: book)"
    )
    args = parser.parse_args(argv)

    if args.list:
        for name, (settings, what) in VARIANTS.items():
            shown = " ".join(f"{k}={v!r}" for k, v in settings.items()) or "(nothing changed)"
            print(f"{name:10s} {what}\n           {shown}")
        return 0
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; known: {list(VARIANTS)}")

    results: dict[str, bool] = {}
    for name in args.variants or list(VARIANTS):
        results[f"{name} nbval"] = check_nbval(name, args.paths)
        if args.execute:
            results[f"{name} execute"] = check_execute(name, args.paths)

    print("\nportability:")
    for label, ok in results.items():
        print(f"  {'ok    ' if ok else 'FAILED'} {label}")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
