"""Time ``companion``'s RNN loops against PyTorch's own ``torch.nn.RNN`` on the CPU.

Usage (``make bench`` runs the first line)::

    python benchmarks/run.py --out benchmarks/results/cpu.json
    python benchmarks/run.py --quick            # fewer repeats, no JSON unless --out

What is measured (float32, ``--threads`` threads for NumPy's BLAS and for torch):

* **targets** -- for each shape ``(batch, n_steps, n_inputs, n_neurons)``:
  ``numpy_rnn.dynamic_rnn`` forward against ``torch.nn.RNN`` forward (no grad),
  ``torch_rnn.dynamic_rnn`` forward + backward against ``torch.nn.RNN`` forward +
  backward, and each backend with ``sequence_length`` drawn uniformly from
  ``1..n_steps`` against the same call at full length;
* **the loop alone** -- the recurrence without packing or unpacking, ragged
  against full length: the floor under the ragged ratio of the whole call;
* **static vs dynamic** -- ``static_rnn`` (one cell call per step) against
  ``dynamic_rnn``, per step;
* **linearity** -- time against ``n_steps`` and against ``batch``, with a
  least-squares line and its R^2;
* **where the time goes** -- the input GEMM, one recurrent GEMM, one ``tanh``,
  timed alone, and the FLOP rate of a single large GEMM: the physical limit.

Timing: every function is warmed up, then the functions of one comparison run
in turn (interleaved) ``--repeats`` times with the garbage collector off; the
table shows the minimum and the median, and ratios are ``ours / reference``
of the minima (the least disturbed run of each) and of the medians. A ratio
is only meaningful within one run on one machine: the JSON records which.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: The shapes of the issue: (batch, n_steps, n_inputs, n_neurons).
SHAPES = [(64, 50, 32, 128), (256, 100, 128, 256)]
#: Time against n_steps (batch 64) and against batch (50 steps), n_inputs 32, n_neurons 128.
SWEEPS = {
    "n_steps": [(64, n, 32, 128) for n in (25, 50, 100, 200)],
    "batch": [(b, 50, 32, 128) for b in (32, 64, 128, 256, 512)],
}
#: Size of the square GEMM whose FLOP rate stands for the machine's limit.
PEAK_GEMM_N = 1536
#: Targets: ratio (ours / reference, of the minima) must be at most this.
TARGETS = {"numpy_forward": 1.0, "torch_forward_backward": 1.3, "ragged": 0.6}
#: Seconds to wait, before each comparison, for other programs to leave the CPUs idle.
QUIET_WAIT = {"seconds": 30.0}
#: CPU load seen just before each comparison (fraction busy), for the JSON.
LOAD_SEEN: list[float] = []


def set_threads(n: int) -> None:
    """Fix the BLAS/OpenMP thread counts; must run before numpy and torch are imported."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def cpu_busy(seconds: float = 0.5) -> float | None:
    """Fraction of all CPUs busy over ``seconds`` (from /proc/stat; None where unavailable)."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def wait_until_quiet(max_wait: float, threshold: float = 0.15) -> float | None:
    """Wait (up to ``max_wait`` s) until other processes leave the CPUs idle; return busy.

    Timings taken while another program computes are meaningless on a 2-core
    machine, so the runner waits for three quiet half-seconds in a row first.
    """
    if max_wait <= 0:
        return None
    deadline = time.monotonic() + max_wait
    quiet, busy = 0, cpu_busy()
    while busy is not None and time.monotonic() < deadline:
        quiet = quiet + 1 if busy < threshold else 0
        if quiet >= 3:
            break
        busy = cpu_busy()
    return busy


def library(name: str) -> str:
    """Which thread pool a timed function uses: NumPy's OpenBLAS or torch's OpenMP/MKL."""
    return "numpy" if name.startswith("numpy") else "torch"


#: Seconds to pause when switching from one library to the other (see :func:`timeit`).
SETTLE_S = 0.3
#: Each comparison is split into this many rounds (numpy block, then torch block).
ROUNDS = 3


def timeit(fns: dict[str, Callable[[], Any]], repeats: int, warmup: int = 2) -> dict[str, dict]:
    """Time every function ``repeats`` times; return ``{name: {"min_ms", "median_ms", ...}}``.

    Functions of the same library run in turn (interleaved), which spreads any
    disturbance (another process, a frequency change) over all of them instead
    of over one. NumPy's and torch's functions are *not* interleaved: after a
    call, OpenBLAS's worker threads keep spinning for a while, and so do
    OpenMP's, and on a 2-core machine the other library's threads would then
    fight them for the cores. So the comparison runs in ``ROUNDS`` rounds of
    one block per library, with a pause before each block that lets the other
    library's threads fall asleep, and a warm-up call at the start of each.
    """
    busy = wait_until_quiet(QUIET_WAIT["seconds"])
    if busy is not None:
        LOAD_SEEN.append(busy)
    groups: dict[str, list[str]] = {}
    for name in fns:
        groups.setdefault(library(name), []).append(name)
    times: dict[str, list[float]] = {name: [] for name in fns}
    per_round = [repeats // ROUNDS + (r < repeats % ROUNDS) for r in range(ROUNDS)]
    for round_repeats in per_round:
        for names in groups.values():
            if len(groups) > 1:
                time.sleep(SETTLE_S)
            for name in names:
                for _ in range(warmup):
                    fns[name]()
            gc.collect()
            gc.disable()
            try:
                for r in range(round_repeats):
                    order = names if r % 2 == 0 else names[::-1]  # no function always first
                    for name in order:
                        start = time.perf_counter()
                        fns[name]()
                        times[name].append((time.perf_counter() - start) * 1e3)
            finally:
                gc.enable()
        warmup = 1  # later rounds: one call to wake the thread pool up
    return {
        name: {"min_ms": min(t), "median_ms": statistics.median(t), "times_ms": t}
        for name, t in times.items()
    }


def ratio(ours: dict, ref: dict) -> dict[str, float]:
    return {"min": ours["min_ms"] / ref["min_ms"], "median": ours["median_ms"] / ref["median_ms"]}


# ----------------------------------------------------------------------------- problems


class Problem:
    """One shape: data, weights shared by every implementation, and the calls to time."""

    def __init__(self, shape: tuple[int, int, int, int], seed: int = 0) -> None:
        import numpy as np
        import torch

        from companion import numpy_rnn as nr
        from companion import torch_rnn as tr

        self.shape = shape
        batch, n_steps, n_inputs, n_neurons = shape
        rng = np.random.default_rng(seed)
        self.X = rng.standard_normal((batch, n_steps, n_inputs)).astype(np.float32)
        self.lengths = rng.integers(1, n_steps + 1, size=batch)  # uniform on 1..n_steps
        self.G = torch.from_numpy(rng.standard_normal((batch, n_steps, n_neurons)).astype("f4"))
        self.np_cell = nr.BasicRNNCell(n_inputs, n_neurons, seed=seed)
        self.np_cell.b[:] = rng.uniform(-0.1, 0.1, n_neurons)
        self.cell = tr.BasicRNNCell.from_weights(self.np_cell.Wx, self.np_cell.Wy, self.np_cell.b)
        self.rnn = self.cell.to_torch_rnn(batch_first=True)
        self.Xt = torch.from_numpy(self.X)
        self.nr, self.tr, self.torch = nr, tr, torch

    # -- forward only
    def numpy_forward(self, ragged: bool = False) -> Callable[[], Any]:
        lengths = self.lengths if ragged else None
        return lambda: self.nr.dynamic_rnn(self.np_cell, self.X, sequence_length=lengths)

    def torch_forward(self, ragged: bool = False) -> Callable[[], Any]:
        lengths = self.lengths if ragged else None

        def run():
            with self.torch.no_grad():
                return self.tr.dynamic_rnn(self.cell, self.Xt, sequence_length=lengths)

        return run

    def reference_forward(self, ragged: bool = False) -> Callable[[], Any]:
        pack = self.torch.nn.utils.rnn

        def run():
            with self.torch.no_grad():
                if not ragged:
                    return self.rnn(self.Xt)
                packed = pack.pack_padded_sequence(
                    self.Xt, self.lengths, batch_first=True, enforce_sorted=False
                )
                return pack.pad_packed_sequence(self.rnn(packed)[0], batch_first=True)

        return run

    # -- forward + backward (weights need gradients, the data does not)
    def torch_forward_backward(self, ragged: bool = False) -> Callable[[], Any]:
        lengths = self.lengths if ragged else None

        def run():
            self.cell.zero_grad(set_to_none=True)
            outputs, _ = self.tr.dynamic_rnn(self.cell, self.Xt, sequence_length=lengths)
            outputs.backward(self.G)

        return run

    def reference_forward_backward(self) -> Callable[[], Any]:
        def run():
            self.rnn.zero_grad(set_to_none=True)
            outputs, _ = self.rnn(self.Xt)
            outputs.backward(self.G)

        return run

    # -- static unrolling: a list of steps, one cell call per step
    def numpy_static(self) -> Callable[[], Any]:
        steps = list(self.X.transpose(1, 0, 2))
        return lambda: self.nr.static_rnn(self.np_cell, steps)

    def torch_static(self) -> Callable[[], Any]:
        steps = list(self.Xt.unbind(1))

        def run():
            with self.torch.no_grad():
                return self.tr.static_rnn(self.cell, steps)

        return run


def check_same_results(p: Problem) -> float:
    """Largest difference between the three implementations (a benchmark of wrong code is moot)."""
    import numpy as np

    a, _ = p.numpy_forward()()
    b, _ = p.torch_forward()()
    c, _ = p.reference_forward()()
    return float(max(np.abs(a - b.numpy()).max(), np.abs(a - c.numpy()).max()))


# ----------------------------------------------------------------------------- sections


def bench_targets(shapes, repeats: int) -> list[dict]:
    rows = []
    for shape in shapes:
        p = Problem(shape)
        diff = check_same_results(p)
        if diff > 1e-4:
            raise SystemExit(f"implementations disagree on {shape}: max |diff| = {diff:.2e}")
        r = repeats if shape[0] * shape[1] * shape[3] < 2_000_000 else max(5, repeats // 2)
        fwd = timeit(
            {
                "numpy": p.numpy_forward(),
                "numpy_ragged": p.numpy_forward(ragged=True),
                "torch": p.torch_forward(),
                "torch_ragged": p.torch_forward(ragged=True),
                "nn.RNN": p.reference_forward(),
                "nn.RNN_packed": p.reference_forward(ragged=True),
            },
            r,
        )
        fb = timeit(
            {
                "torch": p.torch_forward_backward(),
                "torch_ragged": p.torch_forward_backward(ragged=True),
                "nn.RNN": p.reference_forward_backward(),
            },
            r,
        )
        mean_len = float(p.lengths.mean())
        rows += [
            row("numpy fwd / nn.RNN fwd", shape, fwd["numpy"], fwd["nn.RNN"], "numpy_forward"),
            row("torch fwd / nn.RNN fwd", shape, fwd["torch"], fwd["nn.RNN"], None),
            row(
                "torch fwd+bwd / nn.RNN fwd+bwd",
                shape,
                fb["torch"],
                fb["nn.RNN"],
                "torch_forward_backward",
            ),
            row("numpy fwd ragged / full", shape, fwd["numpy_ragged"], fwd["numpy"], "ragged"),
            row("torch fwd ragged / full", shape, fwd["torch_ragged"], fwd["torch"], "ragged"),
            row("torch fwd+bwd ragged / full", shape, fb["torch_ragged"], fb["torch"], "ragged"),
            row("nn.RNN packed / padded (info)", shape, fwd["nn.RNN_packed"], fwd["nn.RNN"], None),
        ]
        for r_ in rows[-4:-1]:
            r_["mean_length_fraction"] = mean_len / shape[1]
        print_rows(rows[-7:])
    return rows


def row(name: str, shape, ours: dict, ref: dict, target: str | None) -> dict:
    q = ratio(ours, ref)
    limit = TARGETS.get(target) if target else None
    return {
        "comparison": name,
        "shape": list(shape),
        "ours": {k: ours[k] for k in ("min_ms", "median_ms")},
        "reference": {k: ref[k] for k in ("min_ms", "median_ms")},
        "ratio_min": q["min"],
        "ratio_median": q["median"],
        "target": limit,
        "met": None if limit is None else bool(q["min"] <= limit),
    }


def print_rows(rows: list[dict]) -> None:
    for r in rows:
        target = "" if r["target"] is None else f"<= {r['target']:.1f}"
        verdict = "" if r["met"] is None else ("ok" if r["met"] else "MISSED")
        print(
            f"{r['comparison']:<32} {str(tuple(r['shape'])):<20} "
            f"{r['ours']['min_ms']:9.2f} {r['ours']['median_ms']:9.2f} "
            f"{r['reference']['min_ms']:9.2f} {r['reference']['median_ms']:9.2f} "
            f"{r['ratio_min']:6.2f} {r['ratio_median']:6.2f}  {target:<7} {verdict}",
            flush=True,
        )


def print_header(title: str) -> None:
    print(f"\n== {title}")
    print(
        f"{'comparison':<32} {'shape (B, T, I, H)':<20} "
        f"{'ours min':>9} {'median':>9} {'ref min':>9} {'median':>9} "
        f"{'ratio':>6} {'(med)':>6}  target",
        flush=True,
    )


def bench_loop_alone(shapes, repeats: int) -> list[dict]:
    """The recurrence alone, ragged against full length: the floor under the ragged ratio.

    The whole call also packs the inputs and unpacks the outputs. Here only the
    loop runs (``companion.fast``'s ``recurrence`` and ``Recurrence``), on inputs
    packed beforehand, for the drawn lengths and for full length. Packing can
    only add to this ratio: a ragged target below it needs cheaper steps, not a
    better packing.
    """
    import numpy as np
    import torch

    from companion.fast.packing import packing_plan

    rows = []
    for shape in shapes:
        p = Problem(shape)
        batch, n_steps, n_inputs, n_neurons = shape
        plans = {"full": packing_plan(np.full(batch, n_steps)), "ragged": packing_plan(p.lengths)}
        X_tm = np.ascontiguousarray(p.X.transpose(1, 0, 2)).reshape(-1, n_inputs)
        X_packed = {
            "full": X_tm,
            "ragged": np.take(
                p.X.reshape(-1, n_inputs), plans["ragged"].packed_rows(n_steps, False), 0
            ),
        }
        rng = np.random.default_rng(1)
        fns: dict[str, Callable[[], Any]] = {}
        for kind, plan in plans.items():
            sizes = plan.active.tolist()
            X = X_packed[kind]
            fns[f"numpy {kind}"] = loop_numpy(p, X, sizes)
            fns[f"torch {kind}"] = loop_torch(p, torch.from_numpy(X), plan, kind == "ragged", None)
            dH = rng.standard_normal((len(X) + (kind == "ragged"), n_neurons)).astype(np.float32)
            fns[f"torch_fb {kind}"] = loop_torch(
                p, torch.from_numpy(X), plan, kind == "ragged", torch.from_numpy(dH)
            )
        t = timeit(fns, repeats)
        for name, label in (
            ("numpy", "numpy loop alone ragged / full"),
            ("torch", "torch fwd loop alone ragged / full"),
            ("torch_fb", "torch fwd+bwd loop alone ragged / full"),
        ):
            r = row(label, shape, t[f"{name} ragged"], t[f"{name} full"], None)
            r["mean_length_fraction"] = float(p.lengths.mean()) / n_steps
            rows.append(r)
        print_rows(rows[-3:])
    return rows


def loop_numpy(p: Problem, X_packed, sizes: list[int]) -> Callable[[], Any]:
    """``companion.fast.numpy_packed.recurrence`` alone, from zero initial states."""
    from companion.fast.numpy_packed import recurrence

    c, h0 = p.np_cell, p.np_cell.zero_state(p.shape[0])
    return lambda: recurrence(X_packed, h0, sizes, c.Wx, c.Wy, c.b, c.nonlinearity)


def loop_torch(p: Problem, X_packed, plan, zero_row: bool, dH) -> Callable[[], Any]:
    """``companion.fast.torch_packed.Recurrence`` alone: forward without autograd, or
    forward + backward."""
    from companion.fast.torch_packed import Recurrence

    torch, cell = p.torch, p.cell
    h0 = torch.zeros(p.shape[0], p.shape[3])

    def forward() -> Any:
        return Recurrence.apply(
            X_packed, h0, cell.Wx, cell.Wy, cell.b, plan, cell.nonlinearity, zero_row
        )

    def run() -> None:
        if dH is None:
            with torch.no_grad():
                forward()
        else:
            cell.zero_grad(set_to_none=True)
            forward().backward(dH)

    return run


def bench_static_vs_dynamic(shapes, repeats: int) -> list[dict]:
    rows = []
    for shape in shapes:
        p = Problem(shape)
        t = timeit(
            {
                "numpy_static": p.numpy_static(),
                "numpy_dynamic": p.numpy_forward(),
                "torch_static": p.torch_static(),
                "torch_dynamic": p.torch_forward(),
            },
            repeats,
        )
        for backend in ("numpy", "torch"):
            r = row(
                f"{backend} static / dynamic",
                shape,
                t[f"{backend}_static"],
                t[f"{backend}_dynamic"],
                None,
            )
            r["per_step_us"] = {
                "static": 1e3 * t[f"{backend}_static"]["min_ms"] / shape[1],
                "dynamic": 1e3 * t[f"{backend}_dynamic"]["min_ms"] / shape[1],
            }
            rows.append(r)
        print_rows(rows[-2:])
    return rows


def linear_fit(x: list[float], y: list[float]) -> dict[str, float]:
    """Least-squares line ``y = intercept + slope * x`` and its coefficient of determination."""
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxx = sum((a - mx) ** 2 for a in x)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    slope = sxy / sxx
    intercept = my - slope * mx
    ss_res = sum((b - intercept - slope * a) ** 2 for a, b in zip(x, y, strict=True))
    ss_tot = sum((b - my) ** 2 for b in y)
    return {"slope": slope, "intercept": intercept, "r2": 1 - ss_res / ss_tot}


def bench_linearity(repeats: int) -> dict:
    """Forward time against n_steps (batch 64) and against batch (n_steps 50); I=32, H=128."""
    result = {}
    for axis, shapes in SWEEPS.items():
        series: dict[str, list[float]] = {"numpy": [], "torch": [], "nn.RNN": []}
        for shape in shapes:
            p = Problem(shape)
            t = timeit(
                {
                    "numpy": p.numpy_forward(),
                    "torch": p.torch_forward(),
                    "nn.RNN": p.reference_forward(),
                },
                repeats,
            )
            for name in series:
                series[name].append(t[name]["min_ms"])
        x = [s[1] if axis == "n_steps" else s[0] for s in shapes]
        fits = {name: linear_fit(x, y) for name, y in series.items()}
        result[axis] = {"x": x, "shapes": shapes, "min_ms": series, "fit": fits}
        for name, f in fits.items():
            print(
                f"time vs {axis:<8} {name:<7} slope {f['slope'] * 1e3:8.2f} us per unit, "
                f"intercept {f['intercept']:6.2f} ms, R^2 {f['r2']:.4f}",
                flush=True,
            )
    return result


def bench_breakdown(shapes, repeats: int) -> dict:
    """The pieces of one forward pass timed alone, and the physical limit (GEMM FLOP rate)."""
    import numpy as np
    import torch

    out: dict[str, Any] = {"shapes": {}}
    # The machine's limit: the FLOP rate of one large float32 GEMM.
    n = PEAK_GEMM_N
    A = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    C = np.empty_like(A)
    At, Ct = torch.from_numpy(A), torch.from_numpy(C.copy())
    t = timeit(
        {
            "numpy": lambda: np.matmul(A, A, out=C),
            "torch": lambda: torch.mm(At, At, out=Ct),
        },
        max(3, repeats // 3),
    )
    flops = 2 * n**3
    out["peak_gemm"] = {
        "size": n,
        "gflops": {k: flops / (v["min_ms"] * 1e6) for k, v in t.items()},
    }
    print(
        f"one {n}x{n} GEMM: NumPy {out['peak_gemm']['gflops']['numpy']:.0f} GFLOP/s, "
        f"torch {out['peak_gemm']['gflops']['torch']:.0f} GFLOP/s",
        flush=True,
    )
    peak = max(out["peak_gemm"]["gflops"].values())

    for shape in shapes:
        out["shapes"][str(tuple(shape))] = breakdown_one(shape, repeats, peak)
    return out


def breakdown_one(shape, repeats: int, peak_gflops: float) -> dict[str, Any]:
    """Time the pieces of one forward pass of ``shape`` and compare with the whole."""
    import numpy as np
    import torch

    p = Problem(shape)
    batch, n_steps, n_inputs, n_neurons = shape
    h = np.random.default_rng(1).standard_normal((batch, n_neurons)).astype(np.float32)
    z = np.empty_like(h)
    X2 = p.X.reshape(-1, n_inputs)
    XW = np.empty((X2.shape[0], n_neurons), np.float32)
    Wx, Wy = p.np_cell.Wx, p.np_cell.Wy
    X2t, XWt, ht, zt = (torch.from_numpy(a.copy()) for a in (X2, XW, h, z))
    Wxt, Wyt, bt = (torch.from_numpy(a) for a in (Wx, Wy, p.np_cell.b))
    pieces = timeit(
        {
            "numpy_input_gemm": lambda: np.matmul(X2, Wx, out=XW),
            "numpy_step_gemm": lambda: np.matmul(h, Wy, out=z),
            "numpy_step_add": lambda: np.add(z, h, out=z),
            "numpy_step_tanh": lambda: np.tanh(z, out=z),
            "torch_input_gemm": lambda: torch.addmm(bt, X2t, Wxt, out=XWt),
            "torch_step_gemm": lambda: zt.addmm_(ht, Wyt),
            "torch_step_tanh": lambda: torch.tanh(zt, out=zt),
            "numpy_total": p.numpy_forward(),
            "torch_total": p.torch_forward(),
            "nn.RNN_total": p.reference_forward(),
        },
        repeats,
    )
    ms = {k: v["min_ms"] for k, v in pieces.items()}
    flops = 2 * batch * n_steps * (n_inputs * n_neurons + n_neurons * n_neurons)
    bound = flops / (peak_gflops * 1e6)
    entry: dict[str, Any] = {"ms": ms, "flops": flops, "bound_ms": bound}
    for backend in ("numpy", "torch"):
        parts = {
            "input GEMM": ms[f"{backend}_input_gemm"],
            "recurrent GEMM": n_steps * ms[f"{backend}_step_gemm"],
            "tanh": n_steps * ms[f"{backend}_step_tanh"],
        }
        if backend == "numpy":
            parts["add"] = n_steps * ms["numpy_step_add"]
        total = ms[f"{backend}_total"]
        parts["rest (Python, copies)"] = max(0.0, total - sum(parts.values()))
        entry[backend] = {
            "parts_ms": parts,
            "total_ms": total,
            "step_gemm_gflops": 2 * batch * n_neurons**2 / (ms[f"{backend}_step_gemm"] * 1e6),
            "fraction_of_peak": bound / total,
        }
        shares = ", ".join(f"{k} {v:.2f}" for k, v in parts.items())
        print(
            f"{backend:<5} {str(shape):<20} total {total:7.2f} ms = {shares}; "
            f"bound {bound:.2f} ms ({bound / total:.0%} of peak)",
            flush=True,
        )
    return entry


def bench_step_cost(shapes, repeats: int) -> dict[str, Any]:
    """Cost of one loop step against the number ``k`` of instances still running.

    A step costs about ``a + b * k``: ``b`` per running row (the arithmetic) and
    ``a`` whatever ``k`` is (the Python loop, the call into the library, packing
    ``Wy`` for the GEMM). Every step of a ragged batch still pays ``a``, so its
    time cannot fall all the way to ``sum(lengths) / (batch * n_steps)`` of the
    full batch's: the fitted line predicts where it lands.
    """
    import numpy as np
    import torch

    out: dict[str, Any] = {}
    for shape in shapes:
        out[str(tuple(shape))] = step_cost_one(shape, repeats, np, torch)
    return out


def step_cost_one(shape, repeats: int, np, torch) -> dict[str, Any]:
    batch, n_steps, _, n_neurons = shape
    p = Problem(shape)
    rng = np.random.default_rng(2)
    h = rng.uniform(-1, 1, (batch, n_neurons)).astype(np.float32)
    z = np.zeros_like(h)
    hW = np.empty_like(h)
    Wy = p.np_cell.Wy
    ht, zt, Wyt = torch.from_numpy(h.copy()), torch.from_numpy(z.copy()), p.cell.Wy.detach()
    inner = 20  # steps per timed call, so the timer's own cost does not count

    def numpy_steps(k: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(inner):  # the body of companion.fast.numpy_packed.recurrence
                np.dot(h[:k], Wy, out=hW[:k])
                z_k = z[:k]
                z_k += hW[:k]
                np.tanh(z_k, out=z_k)

        return run

    def torch_steps(k: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(inner):  # the body of companion.fast.torch_packed.Recurrence.forward
                z_k = zt[:k]
                z_k.addmm_(ht[:k], Wyt)
                torch.tanh(z_k, out=z_k)

        return run

    ks = sorted({1, batch // 8, batch // 4, batch // 2, 3 * batch // 4, batch})
    fns = {f"numpy {k}": numpy_steps(k) for k in ks}
    fns.update({f"torch {k}": torch_steps(k) for k in ks})
    with torch.no_grad():
        # More repeats than elsewhere: each call is short, and on a virtual machine the
        # second BLAS thread (used only by the largest k) is sometimes slow to run.
        t = timeit(fns, 3 * repeats)
    sizes = [int((p.lengths > s).sum()) for s in range(n_steps)]
    result: dict[str, Any] = {"k": ks}
    for backend in ("numpy", "torch"):
        us = [1e3 * t[f"{backend} {k}"]["min_ms"] / inner for k in ks]
        fit = linear_fit(ks, us)
        a, b = fit["intercept"], fit["slope"]
        # The prediction interpolates the measured costs (the line is only a summary:
        # with two BLAS threads a large step can cost less per row than a small one).
        ragged = float(np.interp(sizes, ks, us).sum())
        full = n_steps * us[-1]
        result[backend] = {
            "step_us": us,
            "fit": fit,
            "predicted_loop_ratio": ragged / full,
            "rows_ratio": sum(sizes) / (batch * n_steps),
        }
        print(
            f"{backend:<5} {str(tuple(shape)):<20} step = {a:5.2f} us + {b * 1e3:7.1f} ns x k "
            f"(R^2 {fit['r2']:.3f}; k={ks}: {', '.join(f'{u:.1f}' for u in us)} us); "
            "ragged loop predicted at "
            f"{ragged / full:.2f} of full, rows {sum(sizes) / (batch * n_steps):.2f}",
            flush=True,
        )
    return result


# ----------------------------------------------------------------------------- machine


def openblas_core() -> str | None:
    """The kernel family NumPy's OpenBLAS picked for this CPU (e.g. ``SkylakeX``), if it says."""
    import ctypes
    import glob

    import numpy as np

    libs = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "*openblas*"))
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in ("scipy_openblas_get_corename64_", "openblas_get_corename64_",
                       "openblas_get_corename"):  # fmt: skip
            fn = getattr(lib, symbol, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


def machine_description(threads: int) -> dict[str, Any]:
    import numpy as np
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags: list[str] = []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                flags = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16") if f in have]
                break
    except OSError:
        pass
    blas = {}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = {k: blas.get(k) for k in ("name", "version", "openblas configuration")}
    except Exception:  # noqa: BLE001 -- informative only
        pass
    return {
        "cpu": cpu,
        "cpu_flags": flags,
        "openblas_core": openblas_core(),
        "logical_cpus": os.cpu_count(),
        "threads": {
            "requested": threads,
            "torch": torch.get_num_threads(),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        },
        "openblas_env": {
            k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ
        },
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": blas,
        "torch": torch.__version__,
        "torch_blas": "MKL" if torch.backends.mkl.is_available() else "other",
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="5 repeats, targets only")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=30.0,
        help="seconds to wait before each comparison for the CPUs to be idle (0: never)",
    )
    args = parser.parse_args(argv)

    set_threads(args.threads)
    QUIET_WAIT["seconds"] = args.wait_quiet
    import torch

    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(ROOT))
    repeats = 5 if args.quick else args.repeats

    started = time.perf_counter()
    result: dict[str, Any] = {
        "created": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine_description(args.threads),
        "settings": {"repeats": repeats, "dtype": "float32", "shapes": SHAPES},
        "targets": TARGETS,
    }
    print_header("targets")
    result["targets_rows"] = bench_targets(SHAPES, repeats)
    if not args.quick:
        print_header("the loop alone, ragged / full (no packing: the floor of the ratio above)")
        result["loop_alone"] = bench_loop_alone(SHAPES, repeats)
        print_header("static vs dynamic unrolling (forward, per step)")
        result["static_vs_dynamic"] = bench_static_vs_dynamic(SHAPES, repeats)
        print("\n== cost against n_steps and batch (forward, min ms)")
        result["linearity"] = bench_linearity(repeats)
        print("\n== where the time goes (forward)")
        result["breakdown"] = bench_breakdown(SHAPES, repeats)
        print("\n== one step of the loop against the rows still running")
        result["step_cost"] = bench_step_cost(SHAPES, repeats)

    result["cpu_busy_before_each_comparison"] = {
        "max": max(LOAD_SEEN, default=None),
        "median": statistics.median(LOAD_SEEN) if LOAD_SEEN else None,
    }
    if LOAD_SEEN and max(LOAD_SEEN) > 0.3:
        print(f"warning: other programs kept the CPUs up to {max(LOAD_SEEN):.0%} busy; "
              "timings are disturbed")  # fmt: skip
    missed = [r for r in result["targets_rows"] if r["met"] is False]
    result["all_targets_met"] = not missed
    result["seconds"] = time.perf_counter() - started
    print()
    if missed:
        print("targets MISSED: " + "; ".join(f"{r['comparison']} {r['shape']}" for r in missed))
    else:
        print("all targets met")
    floor = [r for r in result.get("loop_alone", []) if r["ratio_min"] > TARGETS["ragged"]]
    if floor:
        print(
            f"the loop alone is already above the ragged target ({TARGETS['ragged']}), so no "
            "packing can meet it: "
            + "; ".join(f"{r['comparison']} {r['shape']} {r['ratio_min']:.2f}" for r in floor)
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_suffix(".tmp.json")
        tmp.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        tmp.replace(args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
