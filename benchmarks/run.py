"""Time ``companion``'s recurrent layers against their floors and ``torch.nn`` (CPU, float32).

Usage (``make bench`` runs the first line)::

    python benchmarks/run.py --threads 2 --out benchmarks/results/cpu.json
    python benchmarks/run.py --quick          # shorter runs, targets only
    python benchmarks/run.py --only training  # the encoder-decoder's training alone

Targets, checked in one run for each shape ``(batch, n_steps, n_inputs, n_neurons)``:

* NumPy ``dynamic_rnn`` forward <= 1.10 x the **bare NumPy floor**: the input
  product hoisted (one GEMM for every step), then per step one recurrent GEMM
  and one ``tanh``, written as raw NumPy calls with no checks; its ratio to
  ``torch.nn.RNN`` is printed beside it (it depends on the host's BLAS);
* NumPy forward with lengths drawn uniformly from ``1..n_steps`` <= 1.25 x the
  **bare ragged floor**: the valid rows gathered, one GEMM for their inputs, then
  per step one GEMM and one ``tanh`` on the running prefix;
* torch forward with those lengths <= 1.0 x ``nn.RNN`` on ``pack_padded_sequence``
  of the same batch (packing and unpadding included);
* torch forward + backward <= 1.3 x ``nn.RNN``;
* LSTM and GRU (chapter 11): torch forward + backward <= 1.5 x ``nn.LSTM`` /
  ``nn.GRU``, NumPy forward <= 1.2 x the bare floor of the same cell;
* training chapter 13's encoder-decoder (``Seq2Seq``, its sizes and batch size)
  on the same fixed batches: ``rnn="companion"`` <= 1.5 x ``rnn="torch.nn"``
  (``nn.GRU``, same weights); the ratio with ``attention="dot"`` is printed beside it.

Beside each fast path the reference loop (``backend="reference"``) is timed too:
what the fast path buys. Then, for the appendix: the pieces of one forward pass,
the FLOP rate of one large GEMM (the machine's limit), and the cost of one loop
step against the number of rows still running.

Timing is ``torch.utils.benchmark.Timer.blocked_autorange`` (NumPy calls too);
thread pools are limited with ``threadpoolctl`` (NumPy's BLAS, OpenMP) and
``torch.set_num_threads``. Every comparison runs ``--rounds`` rounds, the
functions of one library in turn within a round, and keeps the median over the
rounds of each function's median. Ratios are ours / baseline, meaningful only
within one run on one machine.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits
from torch.nn.utils import rnn as rnn_utils
from torch.utils.benchmark import Timer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from companion import numpy_rnn as nrnn  # noqa: E402
from companion import torch_rnn as trnn  # noqa: E402
from companion.data.numerals import numeral_dataset  # noqa: E402
from companion.models.seq2seq import RNN_KINDS, Seq2Seq, numeral_batch, sequence_loss  # noqa: E402

#: (batch, n_steps, n_inputs, n_neurons)
SHAPES = [(64, 50, 32, 128), (256, 100, 128, 256)]
CELL_SHAPE = (64, 50, 32, 128)
TARGETS = {
    "numpy fwd": 1.10,
    "numpy fwd ragged": 1.25,
    "torch fwd ragged": 1.0,
    "torch fwd+bwd": 1.3,
    "LSTM torch fwd+bwd": 1.5,
    "GRU torch fwd+bwd": 1.5,
    "LSTM numpy fwd": 1.2,
    "GRU numpy fwd": 1.2,
    "seq2seq training": 1.5,
}
#: Chapter 13's model and batch size: (batch, longest target, n_embed, n_neurons).
SEQ2SEQ_SHAPE = (128, 8, 32, 64)
#: Training steps per timed call: the first 16 of the 63 batches of one epoch (about 20 s
#: for this benchmark; all 63 would take about 40 s).
SEQ2SEQ_BATCHES = 16
PEAK_GEMM_N = 1536
SETTINGS = {"rounds": 9, "min_run_time": 0.1, "threads": 2}


def measure(fns: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Median milliseconds per call of each function: the median over rounds of each
    round's ``blocked_autorange`` median. Names starting with ``numpy`` form one block
    per round, the others another, with a pause between: a library's threads keep
    spinning for a while after a call and would steal the cores from the other."""
    medians: dict[str, list[float]] = {name: [] for name in fns}
    blocks = [
        [n for n in fns if n.startswith("numpy")],
        [n for n in fns if not n.startswith("numpy")],
    ]
    for fn in fns.values():  # warm-up: first calls allocate and load kernels
        fn()
    for _ in range(SETTINGS["rounds"]):
        for block in blocks:
            for name in block:
                timer = Timer("fn()", globals={"fn": fns[name]}, num_threads=SETTINGS["threads"])
                m = timer.blocked_autorange(min_run_time=SETTINGS["min_run_time"])
                medians[name].append(1e3 * m.median)
            time.sleep(0.2)
    return {name: statistics.median(values) for name, values in medians.items()}


# ----------------------------------------------------------------------------- floors


def numpy_floor(X: np.ndarray, Wx: np.ndarray, Wy: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The basic cell's forward pass as raw NumPy calls: time-major outputs."""
    H = np.matmul(X.transpose(1, 0, 2), Wx)  # [n_steps, batch, n_neurons], one GEMM
    H += b
    h = np.zeros_like(H[0])
    scratch = np.empty_like(h)
    for t in range(H.shape[0]):
        np.dot(h, Wy, out=scratch)
        H[t] += scratch
        np.tanh(H[t], out=H[t])
        h = H[t]
    return H


def numpy_ragged_floor(
    X: np.ndarray, lengths: np.ndarray, Wx: np.ndarray, Wy: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """The valid rows only, as raw NumPy calls: packed outputs, no padding written."""
    order = np.argsort(-lengths, kind="stable")
    sizes = (lengths[order][None, :] > np.arange(X.shape[1])[:, None]).sum(axis=1)
    X_sorted = X[order]
    H = np.concatenate([X_sorted[:k, t] for t, k in enumerate(sizes)]) @ Wx
    H += b
    h = np.zeros((len(lengths), Wx.shape[1]), dtype=X.dtype)
    scratch = np.empty_like(h)
    start = 0
    for k in sizes:
        h_t = H[start : start + k]
        np.dot(h[:k], Wy, out=scratch[:k])
        h_t += scratch[:k]
        np.tanh(h_t, out=h_t)
        h, start = h_t, start + k
    return H


def sigmoid_(z: np.ndarray) -> np.ndarray:
    """``z = 1 / (1 + exp(-z)) = (1 + tanh(z / 2)) / 2`` in place (no overflow)."""
    z *= 0.5
    np.tanh(z, out=z)
    z += 1
    z *= 0.5
    return z


def numpy_cell_floor(kind: str, X: np.ndarray, cell: Any) -> np.ndarray:
    """LSTM or GRU forward as raw NumPy calls (PyTorch's equations, gate blocks i f g o /
    r z n): the input product hoisted, then per step one recurrent GEMM and the gates."""
    n = cell.n_neurons
    XW = np.matmul(X.transpose(1, 0, 2), cell.Wx)  # [n_steps, batch, gates * n]
    XW += cell.b if kind == "LSTM" else cell.bx
    h = np.zeros((X.shape[0], n), dtype=X.dtype)
    c = np.zeros_like(h)
    H = np.empty(XW.shape[:2] + (n,), dtype=X.dtype)
    for t in range(XW.shape[0]):
        hW = h @ cell.Wy
        if kind == "LSTM":
            z = XW[t] + hW
            sigmoid_(z[:, : 2 * n])
            sigmoid_(z[:, 3 * n :])
            np.tanh(z[:, 2 * n : 3 * n], out=z[:, 2 * n : 3 * n])
            c = z[:, n : 2 * n] * c + z[:, :n] * z[:, 2 * n : 3 * n]
            h = np.multiply(z[:, 3 * n :], np.tanh(c), out=H[t])
        else:
            hW += cell.by
            rz = sigmoid_(XW[t, :, : 2 * n] + hW[:, : 2 * n])
            cand = np.tanh(XW[t, :, 2 * n :] + rz[:, :n] * hW[:, 2 * n :])
            h = np.add(cand, rz[:, n:] * (h - cand), out=H[t])  # (1 - z) n + z h
    return H


# ----------------------------------------------------------------------------- problems


class Problem:
    """One shape: data, lengths and weights shared by every implementation timed."""

    def __init__(self, shape: tuple[int, int, int, int], seed: int = 0) -> None:
        batch, n_steps, n_inputs, n_neurons = shape
        rng = np.random.default_rng(seed)
        self.shape = shape
        self.X = rng.standard_normal((batch, n_steps, n_inputs)).astype(np.float32)
        self.lengths = rng.integers(1, n_steps + 1, size=batch)
        self.G = torch.from_numpy(rng.standard_normal((batch, n_steps, n_neurons)).astype("f4"))
        self.np_cell = nrnn.BasicRNNCell(n_inputs, n_neurons, seed=seed)
        self.np_cell.b[:] = rng.uniform(-0.1, 0.1, n_neurons)
        c = self.np_cell
        self.cell = trnn.BasicRNNCell.from_weights(c.Wx, c.Wy, c.b)
        self.rnn = self.cell.to_torch_rnn(batch_first=True)
        self.Xt = torch.from_numpy(self.X)

    def calls(self) -> dict[str, Callable[[], Any]]:
        c, X, L = self.np_cell, self.X, self.lengths
        cell, rnn, Xt, G = self.cell, self.rnn, self.Xt, self.G

        def packed_rnn() -> Any:
            packed = rnn_utils.pack_padded_sequence(Xt, L, batch_first=True, enforce_sorted=False)
            return rnn_utils.pad_packed_sequence(rnn(packed)[0], batch_first=True)

        def forward_backward(run: Callable[[], Any], module: torch.nn.Module) -> Callable[[], Any]:
            def call() -> None:
                module.zero_grad(set_to_none=True)
                run()[0].backward(G)

            return call

        no_grad = torch.no_grad()
        return {
            "numpy floor": lambda: numpy_floor(X, c.Wx, c.Wy, c.b),
            "numpy fwd": lambda: nrnn.dynamic_rnn(c, X),
            "numpy fwd reference": lambda: nrnn.dynamic_rnn(c, X, backend="reference"),
            "numpy floor ragged": lambda: numpy_ragged_floor(X, L, c.Wx, c.Wy, c.b),
            "numpy fwd ragged": lambda: nrnn.dynamic_rnn(c, X, L),
            "numpy fwd ragged reference": lambda: nrnn.dynamic_rnn(c, X, L, backend="reference"),
            "nn.RNN fwd": no_grad(lambda: rnn(Xt)),
            "torch fwd": no_grad(lambda: trnn.dynamic_rnn(cell, Xt)),
            "nn.RNN fwd packed": no_grad(packed_rnn),
            "torch fwd ragged": no_grad(lambda: trnn.dynamic_rnn(cell, Xt, L)),
            "torch fwd ragged reference": no_grad(
                lambda: trnn.dynamic_rnn(cell, Xt, L, backend="reference")
            ),
            "nn.RNN fwd+bwd": forward_backward(lambda: rnn(Xt), rnn),
            "torch fwd+bwd": forward_backward(lambda: trnn.dynamic_rnn(cell, Xt), cell),
            "torch fwd+bwd reference": forward_backward(
                lambda: trnn.dynamic_rnn(cell, Xt, backend="reference"), cell
            ),
        }


def check_same_results(p: Problem) -> None:
    """A benchmark of wrong code is moot: every implementation timed must agree."""
    c = p.np_cell
    ours, _ = nrnn.dynamic_rnn(c, p.X)
    ragged, _ = nrnn.dynamic_rnn(c, p.X, p.lengths)
    with torch.no_grad():
        theirs = p.rnn(p.Xt)[0].numpy()
    floor = numpy_floor(p.X, c.Wx, c.Wy, c.b).transpose(1, 0, 2)
    packed = numpy_ragged_floor(p.X, p.lengths, c.Wx, c.Wy, c.b)
    valid = np.arange(p.X.shape[1])[None, :] < p.lengths[:, None]  # [batch, n_steps]
    order = np.argsort(-p.lengths, kind="stable")
    in_packed_order = ragged.transpose(1, 0, 2)[:, order][valid.T[:, order]]  # time-major, sorted
    for name, a, b in (
        ("nn.RNN", ours, theirs),
        ("floor", ours, floor),
        ("ragged floor", in_packed_order.reshape(packed.shape), packed),
    ):
        if np.abs(a - b).max() > 1e-4:
            raise SystemExit(f"{name} disagrees with companion on {p.shape}")


def row(name: str, shape, ms: dict[str, float], ours: str, base: str, ref: str | None) -> dict:
    ratio = ms[ours] / ms[base]
    result = {
        "comparison": name,
        "shape": list(shape),
        "ours_ms": ms[ours],
        "baseline": base,
        "baseline_ms": ms[base],
        "ratio": ratio,
        "target": TARGETS[name],
        "met": bool(ratio <= TARGETS[name]),
        "reference_ratio": None if ref is None else ms[ref] / ms[base],
    }
    return result


def print_row(r: dict, extra: str = "") -> None:
    ref = "" if r["reference_ratio"] is None else f"{r['reference_ratio']:6.2f}"
    print(
        f"{r['comparison']:<20} {str(tuple(r['shape'])):<20} {r['ours_ms']:8.3f} "
        f"{r['baseline']:<18} {r['baseline_ms']:8.3f} {r['ratio']:6.2f}  <= {r['target']:.2f} "
        f"{'ok' if r['met'] else 'MISSED':<6} {ref:>9}  {extra}",
        flush=True,
    )


def bench_rnn(shape) -> tuple[list[dict], dict[str, float]]:
    p = Problem(shape)
    check_same_results(p)
    ms = measure(p.calls())
    rows = [
        row("numpy fwd", shape, ms, "numpy fwd", "numpy floor", "numpy fwd reference"),
        row(
            "numpy fwd ragged",
            shape,
            ms,
            "numpy fwd ragged",
            "numpy floor ragged",
            "numpy fwd ragged reference",
        ),
        row(
            "torch fwd ragged",
            shape,
            ms,
            "torch fwd ragged",
            "nn.RNN fwd packed",
            "torch fwd ragged reference",
        ),
        row(
            "torch fwd+bwd", shape, ms, "torch fwd+bwd", "nn.RNN fwd+bwd", "torch fwd+bwd reference"
        ),
    ]
    rows[0]["nn_rnn_ratio"] = ms["numpy fwd"] / ms["nn.RNN fwd"]
    rows[1]["mean_length_fraction"] = float(p.lengths.mean()) / shape[1]
    for r in rows:
        print_row(r, f"vs nn.RNN {r['nn_rnn_ratio']:.2f}" if "nn_rnn_ratio" in r else "")
    return rows, ms


def bench_cell(kind: str, shape) -> tuple[list[dict], dict[str, float]]:
    """LSTM or GRU: companion's cell against ``nn.LSTM`` / ``nn.GRU`` and its bare floor."""
    batch, n_steps, n_inputs, n_neurons = shape
    rng = np.random.default_rng(1)
    X = rng.standard_normal((batch, n_steps, n_inputs)).astype(np.float32)
    G = torch.from_numpy(rng.standard_normal((batch, n_steps, n_neurons)).astype("f4"))
    np_cell = getattr(nrnn, f"{kind}Cell")(n_inputs, n_neurons, seed=0)
    module = np_cell.to_torch(batch_first=True)
    cell = getattr(trnn, f"{kind}Cell").from_torch(module)
    Xt = torch.from_numpy(X)
    floor = numpy_cell_floor(kind, X, np_cell).transpose(1, 0, 2)
    if np.abs(nrnn.dynamic_rnn(np_cell, X)[0] - floor).max() > 1e-4:
        raise SystemExit(f"the {kind} floor disagrees with companion")

    def fb(run: Callable[[], Any], owner: torch.nn.Module) -> Callable[[], None]:
        def call() -> None:
            owner.zero_grad(set_to_none=True)
            run()[0].backward(G)

        return call

    ms = measure(
        {
            "numpy floor": lambda: numpy_cell_floor(kind, X, np_cell),
            "numpy fwd": lambda: nrnn.dynamic_rnn(np_cell, X),
            "numpy fwd reference": lambda: nrnn.dynamic_rnn(np_cell, X, backend="reference"),
            "nn fwd+bwd": fb(lambda: module(Xt), module),
            "torch fwd+bwd": fb(lambda: trnn.dynamic_rnn(cell, Xt), cell),
            "torch fwd+bwd reference": fb(
                lambda: trnn.dynamic_rnn(cell, Xt, backend="reference"), cell
            ),
        }
    )
    rows = [
        row(
            f"{kind} torch fwd+bwd",
            shape,
            ms,
            "torch fwd+bwd",
            "nn fwd+bwd",
            "torch fwd+bwd reference",
        ),
        row(f"{kind} numpy fwd", shape, ms, "numpy fwd", "numpy floor", "numpy fwd reference"),
    ]
    rows[0]["baseline"] = f"nn.{kind} fwd+bwd"
    for r in rows:
        print_row(r)
    return rows, ms


def bench_training(shape) -> tuple[list[dict], dict[str, float]]:
    """Training chapter 13's encoder-decoder: ``rnn="companion"`` (GRUCell, dynamic_rnn)
    against ``rnn="torch.nn"`` (``nn.GRU`` with the same weights, the encoder packed).
    One timed call: for each fixed batch, forward with teacher forcing, masked loss,
    backward, Adam step (``fit``'s step, the batches built beforehand)."""
    batch, _, n_embed, n_neurons = shape
    numbers, _ = numeral_dataset(seed=0)
    order = np.random.default_rng(0).permutation(len(numbers))  # fit's first epoch, seed 0
    batches = [
        numeral_batch(numbers[order[k * batch : (k + 1) * batch]]) for k in range(SEQ2SEQ_BATCHES)
    ]
    for attention in (None, "dot"):  # the same seed, the same weights: the same float64 loss
        ours, theirs = (
            Seq2Seq(n_embed, n_neurons, attention=attention, rnn=rnn, dtype=torch.float64, seed=0)
            for rnn in RNN_KINDS
        )
        gap = abs(sequence_loss(ours, batches[0]).item() - sequence_loss(theirs, batches[0]).item())
        if gap > 1e-12:
            raise SystemExit(
                f"Seq2Seq(attention={attention!r}): nn.GRU's loss differs by {gap:.1e}"
            )

    def epoch(attention: str | None, rnn: str) -> Callable[[], None]:
        model = Seq2Seq(n_embed, n_neurons, attention=attention, rnn=rnn, seed=0)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

        def call() -> None:
            for data in batches:
                optimizer.zero_grad()
                sequence_loss(model, data).backward()
                optimizer.step()

        return call

    ms = measure(
        {
            f"{name}{suffix}": epoch(attention, rnn)
            for suffix, attention in (("", None), (" dot", "dot"))
            for name, rnn in zip(("companion", "nn.GRU"), RNN_KINDS, strict=True)
        }
    )
    r = row("seq2seq training", shape, ms, "companion", "nn.GRU", None)
    r["baseline"] = "nn.GRU training"
    r["batches"] = SEQ2SEQ_BATCHES
    r["dot_attention_ratio"] = ms["companion dot"] / ms["nn.GRU dot"]
    print_row(r, f"{SEQ2SEQ_BATCHES} steps; attention='dot' {r['dot_attention_ratio']:.2f}")
    return [r], ms


# ----------------------------------------------------------------------------- for the appendix


#: Steps per timed call when one loop step is timed alone: the call's own cost is shared.
INNER = 20


def repeat(step: Callable[[], Any]) -> Callable[[], None]:
    """``step`` called ``INNER`` times in a row, as inside the loop."""

    def run() -> None:
        for _ in range(INNER):
            step()

    return run


def bench_breakdown(shape, ms: dict[str, float], peak_gflops: float) -> dict[str, Any]:
    """The pieces of one forward pass timed alone, against the whole and the GEMM bound."""
    batch, n_steps, n_inputs, n_neurons = shape
    p = Problem(shape)
    rng = np.random.default_rng(1)
    h = rng.standard_normal((batch, n_neurons)).astype(np.float32)
    z = np.empty_like(h)
    X2 = p.X.reshape(-1, n_inputs)
    XW = np.empty((X2.shape[0], n_neurons), np.float32)
    Wx, Wy, b = p.np_cell.Wx, p.np_cell.Wy, p.np_cell.b
    X2t, XWt, ht, zt = (torch.from_numpy(a.copy()) for a in (X2, XW, h, z))
    Wxt, Wyt, bt = (torch.from_numpy(a) for a in (Wx, Wy, b))
    with torch.no_grad():
        t = measure(
            {
                "numpy input GEMM": lambda: np.matmul(X2, Wx, out=XW),
                "numpy step GEMM": repeat(lambda: np.dot(h, Wy, out=z)),
                "numpy step tanh": repeat(lambda: np.tanh(z, out=z)),
                "torch input GEMM": lambda: torch.addmm(bt, X2t, Wxt, out=XWt),
                "torch step GEMM": repeat(lambda: zt.addmm_(ht, Wyt)),
                "torch step tanh": repeat(lambda: torch.tanh(zt, out=zt)),
            }
        )
    flops = 2 * batch * n_steps * (n_inputs * n_neurons + n_neurons**2)
    bound = flops / (peak_gflops * 1e6)
    entry: dict[str, Any] = {"flops": flops, "bound_ms": bound, "nn_rnn_ms": ms["nn.RNN fwd"]}
    for backend, total in (("numpy", ms["numpy fwd"]), ("torch", ms["torch fwd"])):
        parts = {
            "input GEMM": t[f"{backend} input GEMM"],
            "recurrent GEMM": n_steps * t[f"{backend} step GEMM"] / INNER,
            "tanh": n_steps * t[f"{backend} step tanh"] / INNER,
        }
        parts["rest (Python, copies)"] = max(0.0, total - sum(parts.values()))
        entry[backend] = {
            "parts_ms": parts,
            "total_ms": total,
            "step_gemm_gflops": 2e-6 * batch * n_neurons**2 * INNER / t[f"{backend} step GEMM"],
            "fraction_of_bound": bound / total,
        }
        print(f"{backend:<5} {str(shape):<20} {total:8.3f} ms: "
              + ", ".join(f"{k} {v:.3f}" for k, v in parts.items())
              + f"; GEMM-rate bound {bound:.3f} ms")  # fmt: skip
    return entry


def bench_peak_gemm() -> dict[str, float]:
    """GFLOP/s of one large square float32 GEMM in each library: the machine's limit."""
    A = np.random.default_rng(0).standard_normal((PEAK_GEMM_N, PEAK_GEMM_N)).astype(np.float32)
    C, At = np.empty_like(A), torch.from_numpy(A)
    Ct = torch.empty_like(At)
    t = measure(
        {"numpy": lambda: np.matmul(A, A, out=C), "torch": lambda: torch.mm(At, At, out=Ct)}
    )
    gflops = {k: 2 * PEAK_GEMM_N**3 / (v * 1e6) for k, v in t.items()}
    rates = ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in gflops.items())
    print(f"one {PEAK_GEMM_N}^2 GEMM: {rates}")
    return gflops


def bench_step_cost(shape) -> dict[str, Any]:
    """One loop step against the number ``k`` of rows still running: about ``a + b k``.

    Every step of a ragged batch still pays ``a`` (the Python loop, the library
    call), so its time cannot fall to ``sum(lengths) / (batch n_steps)`` of the full
    batch's."""
    batch, n_steps, _, n_neurons = shape
    p = Problem(shape)
    h = np.random.default_rng(2).uniform(-1, 1, (batch, n_neurons)).astype(np.float32)
    z, s = np.zeros_like(h), np.empty_like(h)
    Wy, ht, zt, Wyt = p.np_cell.Wy, torch.from_numpy(h), torch.zeros(batch, n_neurons), p.cell.Wy
    ks = sorted({1, batch // 8, batch // 4, batch // 2, 3 * batch // 4, batch})

    def numpy_steps(k: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(INNER):  # the body of companion.fast.numpy_packed.recurrence
                np.dot(h[:k], Wy, out=s[:k])
                z[:k] += s[:k]
                np.tanh(z[:k], out=z[:k])

        return run

    def torch_steps(k: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(INNER):  # the body of companion.fast.torch_packed.Recurrence
                zt[:k].addmm_(ht[:k], Wyt)
                torch.tanh(zt[:k], out=zt[:k])

        return run

    fns = {f"numpy {k}": numpy_steps(k) for k in ks} | {f"torch {k}": torch_steps(k) for k in ks}
    with torch.no_grad():
        t = measure(fns)
    sizes = (p.lengths[None, :] > np.arange(n_steps)[:, None]).sum(axis=1)
    out: dict[str, Any] = {"k": ks, "rows_ratio": float(sizes.sum() / (batch * n_steps))}
    for backend in ("numpy", "torch"):
        out[backend] = {"step_us": [1e3 * t[f"{backend} {k}"] / INNER for k in ks]}
        print(f"{backend:<5} {str(shape):<20} one step, k = {ks}: "
              + ", ".join(f"{u:.1f}" for u in out[backend]["step_us"]) + " us")  # fmt: skip
    return out


# ----------------------------------------------------------------------------- machine


def machine_description() -> dict[str, Any]:
    cpu, flags = platform.processor() or platform.machine(), []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                have = set(line.split(":", 1)[1].split())
                flags = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16") if f in have]
    except OSError:
        pass
    pools = [
        {k: pool.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
        for pool in threadpool_info()
    ]
    return {
        "cpu": cpu,
        "cpu_flags": flags,
        "logical_cpus": os.cpu_count(),
        "threads": SETTINGS["threads"],
        "thread_pools": pools,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_blas": "MKL" if torch.backends.mkl.is_available() else "other",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="2 short rounds, targets only")
    parser.add_argument("--only", choices=["training"], help="run this benchmark alone")
    args = parser.parse_args(argv)
    SETTINGS["threads"] = args.threads
    if args.quick:
        SETTINGS.update(rounds=2, min_run_time=0.05)

    started = time.perf_counter()
    with threadpool_limits(limits=args.threads):
        torch.set_num_threads(args.threads)
        result: dict[str, Any] = {
            "created": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": machine_description(),
            "settings": {**SETTINGS, "dtype": "float32", "shapes": SHAPES, "cells": CELL_SHAPE},
            "rows": [],
        }
        print(f"{'comparison':<20} {'shape':<20} {'ours ms':>8} {'baseline':<18} {'ms':>8} "
              f"{'ratio':>6}  target        {'reference':>9}")  # fmt: skip
        timings = {}
        for shape in SHAPES if args.only is None else []:
            rows, timings[shape] = bench_rnn(shape)
            result["rows"] += rows
        for kind in ("LSTM", "GRU") if args.only is None else []:
            rows, timings[kind] = bench_cell(kind, CELL_SHAPE)
            result["rows"] += rows
        rows, timings["training"] = bench_training(SEQ2SEQ_SHAPE)
        result["rows"] += rows
        result["timings_ms"] = {str(key): ms for key, ms in timings.items()}
        if not args.quick and args.only is None:
            gflops = bench_peak_gemm()
            result["peak_gemm"] = {"size": PEAK_GEMM_N, "gflops": gflops}
            peak = max(gflops.values())
            result["breakdown"] = {str(s): bench_breakdown(s, timings[s], peak) for s in SHAPES}
            result["step_cost"] = {str(s): bench_step_cost(s) for s in SHAPES}

    missed = [r for r in result["rows"] if not r["met"]]
    result["all_targets_met"] = not missed
    result["seconds"] = time.perf_counter() - started
    print("\nall targets met" if not missed else "\ntargets MISSED: "
          + "; ".join(f"{r['comparison']} {tuple(r['shape'])}" for r in missed))  # fmt: skip
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_suffix(".tmp.json")
        tmp.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        tmp.replace(args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
