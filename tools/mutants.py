"""Does the test suite still bite? Run it against deliberate mistakes in the reference.

Each mutant is one small, plausible mistake in ``companion``'s reference code
(the kind a student or a refactoring makes). For each, the package and the
tests are copied to a temporary folder, the mistake is written into the copy,
and the unit tests run there (the current directory comes first on the import
path, before the installed package; the script checks that the copy is what
gets imported). A mutant that no test catches is a hole in the suite.

Usage::

    python tools/mutants.py            # every mutant; exit 1 if one survives
    python tools/mutants.py --list     # the mutants, one line each

Runs the unit tests only (not nbval, not the browser), stopping at the first
failure per mutant: a few minutes for all of them on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # relative to the repository
    old: str  # must occur exactly once in the file
    new: str


MUTANTS = [
    Mutant(
        "outputs past the end copy the last output instead of 0",
        "companion/numpy_rnn.py",
        "h_new = np.where(running, h_new, cell.dtype.type(0))",
        "h_new = np.where(running, h_new, h)",
    ),
    Mutant(
        "the state keeps running through the padding",
        "companion/numpy_rnn.py",
        "h = np.where(running, h_new, h)",
        "h = np.where(running, h_new, cell.phi(xw[t] + h @ cell.Wy))",
    ),
    Mutant(
        "Wy transposed in the recurrent term",
        "companion/numpy_rnn.py",
        "h_new = cell.phi(xw[t] + h @ cell.Wy)",
        "h_new = cell.phi(xw[t] + h @ cell.Wy.T)",
    ),
    Mutant(
        "off-by-one mask (t <= length)",
        "companion/numpy_rnn.py",
        "running = (t < lengths)[:, None]  # [batch, 1]: the instances not yet ended\n"
        "            h_new = np.where(",
        "running = (t <= lengths)[:, None]  # [batch, 1]: the instances not yet ended\n"
        "            h_new = np.where(",
    ),
    Mutant(
        "initial weights bounded by 1/sqrt(n_inputs)",
        "companion/numpy_rnn.py",
        "k = 1.0 / np.sqrt(n_neurons)",
        "k = 1.0 / np.sqrt(n_inputs)",
    ),
    Mutant(
        "static unrolling: outputs past the end copy the state instead of 0",
        "companion/numpy_rnn.py",
        "h = np.where(running, h, 0).astype(cell.dtype, copy=False)",
        "h = np.where(running, h, state).astype(cell.dtype, copy=False)",
    ),
    Mutant(
        "LSTM: input and forget gates swapped",
        "companion/cells/numpy_cells.py",
        "c = f * c_prev + i * g",
        "c = i * c_prev + f * g",
    ),
    Mutant(
        "GRU: z and 1 - z swapped",
        "companion/cells/numpy_cells.py",
        "return (1 - z) * n + z * h_prev",
        "return z * n + (1 - z) * h_prev",
    ),
    Mutant(
        "BPTT by hand: the tanh derivative forgotten",
        "companion/training/bptt.py",
        "g = np.where(valid, delta * phi_derivative(cell, cache.pre_activations[:, t]), 0)",
        "g = np.where(valid, delta, 0)",
    ),
    Mutant(
        "torch: Wy transposed in the reference loop",
        "companion/torch_rnn.py",
        "h_new = cell.phi(xw[t] + h @ cell.Wy)",
        "h_new = cell.phi(xw[t] + h @ cell.Wy.T)",
    ),
    Mutant(
        "torch: off-by-one mask in the reference loop",
        "companion/torch_rnn.py",
        "running = (t < lengths)[:, None]  # [batch, 1]: the instances not yet ended\n"
        "                h_new = torch.where(",
        "running = (t <= lengths)[:, None]  # [batch, 1]: the instances not yet ended\n"
        "                h_new = torch.where(",
    ),
]


# Copied into the work folder (the mutant is written into the copy); the rest is linked.
COPIED = ("companion", "tests", "pyproject.toml")
LINKED = (
    "book",
    "tools",
    "benchmarks",
    "_toc.yml",
    "_config.yml",
    "README.md",
    "constraints.txt",
    "environment.yml",
)


def prepare(workdir: Path) -> None:
    """A work folder that looks like the repository, with its own copy of the package."""
    for name in COPIED:
        source, target = REPO / name, workdir / name
        if target.is_dir():
            shutil.rmtree(target)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    for name in LINKED:
        if not (workdir / name).exists():
            (workdir / name).symlink_to(REPO / name)


def run_mutant(mutant: Mutant, workdir: Path) -> tuple[bool, str]:
    """Apply ``mutant`` to a fresh copy of the package, run the tests; (caught, first failure).

    The tests run with the work folder as current directory, so ``import companion``
    finds the mutated copy before the installed (editable) package.
    """
    prepare(workdir)
    target = workdir / mutant.path
    source = target.read_text(encoding="utf-8")
    if source.count(mutant.old) != 1:
        raise SystemExit(f"{mutant.path}: the text to mutate is not there once: {mutant.old!r}")
    target.write_text(source.replace(mutant.old, mutant.new), encoding="utf-8")
    probe = subprocess.run(
        [sys.executable, "-c", "import companion; print(companion.__file__)"],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    if not probe.stdout.startswith(str(workdir)):
        raise SystemExit(f"the copy is not the package imported: {probe.stdout or probe.stderr}")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-x",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests",
            "--ignore=tests/browser",
            "--ignore=tests/test_book_infra.py",
            "--ignore=tests/test_progress_bars.py",
            # runs benchmarks/run.py in a subprocess, which imports the installed package
            "--ignore=tests/test_benchmarks.py",
        ],
        cwd=workdir,
        env=dict(os.environ, HYPOTHESIS_PROFILE="ci"),
        capture_output=True,
        text=True,
    )
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    return result.returncode != 0, failed[0] if failed else result.stdout.strip()[-200:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    if args.list:
        for mutant in MUTANTS:
            print(f"{mutant.path}: {mutant.name}")
        return 0
    survivors = []
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        for mutant in MUTANTS:
            caught, detail = run_mutant(mutant, Path(tmp))
            print(
                f"{'caught  ' if caught else 'SURVIVED'} {mutant.name}\n         {detail}",
                flush=True,
            )
            if not caught:
                survivors.append(mutant.name)
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
