"""Check ``companion.torch_rnn`` on a CUDA GPU against cuDNN: correctness, then timing.

Usage::

    python benchmarks/gpu_check.py --out gpu.json

Self-contained (needs only torch, numpy and this repository) and quick (well
under three minutes on one H100/H200). Without a CUDA device it says so,
writes ``{"cuda": false, ...}`` and exits 0.

1. **Correctness** (TF32 off, so float32 products are true float32): for
   float32 and float64, tanh and ReLU, full-length and ragged batches (lengths
   0 and ``n_steps`` included), batch- and time-major, the outputs, final state
   and gradients (``X``, initial state, ``Wx``, ``Wy``, ``b``) of
   ``dynamic_rnn(backend="loop")`` and ``dynamic_rnn(backend="cudnn")`` are
   compared with ``torch.nn.RNN`` (cuDNN, ``pack_padded_sequence`` for ragged
   batches) and with the float64 CPU loop; padding must be exact zeros.
2. **Timing** (CUDA events, warm-up, median of repeats): forward (no grad) and
   forward + backward of ``nn.RNN`` (cuDNN), of the loop and of the cuDNN
   path, full-length and ragged (lengths uniform on ``1..n_steps``); ratios
   are ``ours / nn.RNN``.

Exit status 1 if a correctness check fails. ``--dry-run-on-cpu`` runs the same
script on the CPU (PyTorch's native kernel standing in for cuDNN, small
shapes) to check the script itself without a GPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from companion import torch_rnn as tr  # noqa: E402
from companion.fast import cudnn as cuda_path  # noqa: E402

DEVICE = "cuda"

SHAPES = [(64, 50, 32, 128), (256, 100, 128, 256), (1024, 100, 256, 512)]
TOL = {torch.float32: 2e-4, torch.float64: 1e-9}  # on max |diff| / max(1, max |value|)


def nn_rnn(cell: tr.BasicRNNCell) -> torch.nn.RNN:
    """``torch.nn.RNN`` with the cell's weights (flattened for cuDNN by ``to_torch_rnn``)."""
    rnn = cell.to_torch_rnn(batch_first=True)
    rnn.flatten_parameters()
    return rnn


def oracle(rnn: torch.nn.RNN, X: torch.Tensor, h0: torch.Tensor, lengths: np.ndarray | None):
    """``nn.RNN`` with TensorFlow's ``sequence_length`` semantics (packed; length 0 by hand)."""
    if lengths is None:
        out, hn = rnn(X, h0[None])
        return out, hn[0]
    batch, n_steps, _ = X.shape
    rows = torch.from_numpy(np.flatnonzero(lengths > 0)).to(X.device)
    out = X.new_zeros(batch, n_steps, rnn.hidden_size)
    state = h0
    if len(rows):
        pack = torch.nn.utils.rnn
        packed = pack.pack_padded_sequence(
            X[rows], torch.from_numpy(lengths[lengths > 0]), batch_first=True, enforce_sorted=False
        )
        y, hn = rnn(packed, h0[rows][None])
        y, _ = pack.pad_packed_sequence(y, batch_first=True, total_length=n_steps)
        out = out.index_put((rows,), y)
        state = state.index_put((rows,), hn[0])
    return out, state


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    if a.numel() == 0:
        return 0.0
    return float((a - b).abs().max() / max(1.0, float(b.abs().max())))


def check_correctness() -> list[dict[str, Any]]:  # noqa: C901 -- one nested sweep
    rows = []
    rng = np.random.default_rng(0)
    batch, n_steps, n_inputs, n_neurons = 6, 9, 4, 7
    for dtype in (torch.float32, torch.float64):
        for nonlinearity in ("tanh", "relu"):
            for ragged in (False, True):
                for time_major in (False, True):
                    lengths = np.array([9, 0, 3, 9, 1, 5]) if ragged else None
                    cpu = tr.BasicRNNCell(n_inputs, n_neurons, seed=1, dtype=torch.float64,
                                          nonlinearity=nonlinearity)  # fmt: skip
                    with torch.no_grad():
                        cpu.b.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, n_neurons)))
                    X64 = torch.from_numpy(rng.standard_normal((batch, n_steps, n_inputs)))
                    h064 = torch.from_numpy(rng.standard_normal((batch, n_neurons)))
                    G64 = torch.from_numpy(rng.standard_normal((batch, n_steps, n_neurons)))
                    results = {}
                    for name in ("cpu64", "nn.RNN", "loop", "cudnn"):
                        on_gpu = name != "cpu64"
                        dt = dtype if on_gpu else torch.float64
                        dev = DEVICE if on_gpu else "cpu"
                        cell = tr.BasicRNNCell.from_weights(
                            cpu.Wx.detach(), cpu.Wy.detach(), cpu.b.detach(),
                            nonlinearity=nonlinearity, dtype=dt,
                        ).to(dev)  # fmt: skip
                        X = X64.to(dev, dt, copy=True).requires_grad_()
                        h0 = h064.to(dev, dt, copy=True).requires_grad_()
                        G = G64.to(dev, dt)
                        if name == "nn.RNN":
                            rnn = nn_rnn(cell)
                            out, state = oracle(rnn, X, h0, lengths)
                            (out * G).sum().add(state.sum()).backward()
                            bias = rnn.bias_ih_l0.grad
                            wgrads = [rnn.weight_ih_l0.grad.T, rnn.weight_hh_l0.grad.T, bias]
                        else:
                            backend = "cudnn" if name == "cudnn" else "loop"
                            Xin = X.transpose(0, 1) if time_major else X
                            out, state = tr.dynamic_rnn(
                                cell, Xin, sequence_length=lengths, initial_state=h0,
                                time_major=time_major, backend=backend,
                            )  # fmt: skip
                            if time_major:
                                out = out.transpose(0, 1)
                            (out * G).sum().add(state.sum()).backward()
                            wgrads = [cell.Wx.grad, cell.Wy.grad, cell.b.grad]
                        results[name] = [out, state, X.grad, h0.grad, *wgrads]
                    names = ["outputs", "state", "dX", "dh0", "dWx", "dWy", "db"]
                    worst = {
                        who: max(
                            relative_error(a, b)
                            for a, b in zip(results[who], results["nn.RNN"], strict=True)
                        )
                        for who in ("loop", "cudnn", "cpu64")
                    }
                    zeros_exact = True
                    if lengths is not None:
                        for who in ("loop", "cudnn"):
                            out = results[who][0]
                            for i, n in enumerate(lengths):
                                zeros_exact &= bool(torch.equal(out[i, n:], 0 * out[i, n:]))
                    ok = zeros_exact and all(e <= TOL[dtype] for e in worst.values())
                    rows.append(
                        {
                            "dtype": str(dtype).removeprefix("torch."),
                            "nonlinearity": nonlinearity,
                            "ragged": ragged,
                            "time_major": time_major,
                            "max_relative_error_vs_nn_rnn": worst,
                            "compared": names,
                            "padding_exact_zeros": zeros_exact,
                            "ok": ok,
                        }
                    )
    return rows


def cuda_time(fn, repeats: int, warmup: int = 3) -> dict[str, float]:
    """Median and min milliseconds of ``fn`` on the GPU (CUDA events around each call)."""
    for _ in range(warmup):
        fn()
    times = []
    if DEVICE != "cuda":  # the dry run on the CPU
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1e3)
        return {"median_ms": statistics.median(times), "min_ms": min(times)}
    torch.cuda.synchronize()
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return {"median_ms": statistics.median(times), "min_ms": min(times)}


def bench_shape(shape, repeats: int) -> list[dict[str, Any]]:
    batch, n_steps, n_inputs, n_neurons = shape
    rng = np.random.default_rng(0)
    cell = tr.BasicRNNCell(n_inputs, n_neurons, seed=0).to(DEVICE)
    rnn = nn_rnn(cell)
    X = torch.from_numpy(rng.standard_normal((batch, n_steps, n_inputs)).astype("f4")).to(DEVICE)
    G = torch.from_numpy(rng.standard_normal((batch, n_steps, n_neurons)).astype("f4")).to(DEVICE)
    lengths = rng.integers(1, n_steps + 1, size=batch)
    pack = torch.nn.utils.rnn

    def ref(ragged: bool, backward: bool):
        def run():
            with torch.set_grad_enabled(backward):
                rnn.zero_grad(set_to_none=True)
                if ragged:
                    packed = pack.pack_padded_sequence(X, lengths, batch_first=True,
                                                       enforce_sorted=False)  # fmt: skip
                    out = pack.pad_packed_sequence(rnn(packed)[0], batch_first=True,
                                                   total_length=n_steps)[0]  # fmt: skip
                else:
                    out = rnn(X)[0]
                if backward:
                    out.backward(G)

        return run

    def ours(backend: str, ragged: bool, backward: bool):
        seq = lengths if ragged else None

        def run():
            with torch.set_grad_enabled(backward):
                cell.zero_grad(set_to_none=True)
                out, _ = tr.dynamic_rnn(cell, X, sequence_length=seq, backend=backend)
                if backward:
                    out.backward(G)

        return run

    rows = []
    for backward in (False, True):
        for ragged in (False, True):
            base = cuda_time(ref(ragged, backward), repeats)
            for backend in ("loop", "cudnn"):
                t = cuda_time(ours(backend, ragged, backward), repeats)
                rows.append(
                    {
                        "shape": list(shape),
                        "pass": "forward+backward" if backward else "forward",
                        "ragged": ragged,
                        "backend": backend,
                        "ours": t,
                        "nn.RNN": base,
                        "ratio_median": t["median_ms"] / base["median_ms"],
                    }
                )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--dry-run-on-cpu", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    shapes = SHAPES
    if args.dry_run_on_cpu:
        global DEVICE
        DEVICE, shapes, args.repeats = "cpu", SHAPES[:1], 3
        cuda_path.cudnn_usable = lambda device: True  # the native CPU kernel stands in

    result: dict[str, Any] = {"torch": torch.__version__, "cuda": torch.cuda.is_available()}
    if not torch.cuda.is_available() and not args.dry_run_on_cpu:
        print("no CUDA device: nothing to check (the CPU tests cover the dispatch logic)")
        return write(args.out, result, 0)

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    result.update(
        device=torch.cuda.get_device_name() if DEVICE == "cuda" else "cpu (dry run)",
        cuda_version=torch.version.cuda,
        cudnn_version=torch.backends.cudnn.version(),
        tf32=False,
    )
    print(f"{result['device']}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"cuDNN {result['cudnn_version']}, TF32 off")  # fmt: skip

    print("\n== correctness against torch.nn.RNN (cuDNN): max relative error")
    checks = check_correctness()
    for c in checks:
        e = c["max_relative_error_vs_nn_rnn"]
        print(
            f"{c['dtype']:<8} {c['nonlinearity']:<5} ragged={c['ragged']!s:<5} "
            f"time_major={c['time_major']!s:<5} loop {e['loop']:.1e}  cudnn {e['cudnn']:.1e}  "
            f"cpu64 {e['cpu64']:.1e}  zeros exact {c['padding_exact_zeros']}  "
            f"{'ok' if c['ok'] else 'FAILED'}",
            flush=True,
        )
    result["correctness"] = checks
    all_ok = all(c["ok"] for c in checks)

    print("\n== timing (float32, median ms; ratio = ours / nn.RNN)")
    print(f"{'shape (B, T, I, H)':<22} {'pass':<17} {'ragged':<7} {'backend':<7} "
          f"{'ours':>9} {'nn.RNN':>9} {'ratio':>7}")  # fmt: skip
    timing = []
    for shape in shapes:
        for r in bench_shape(shape, args.repeats):
            timing.append(r)
            print(
                f"{str(tuple(r['shape'])):<22} {r['pass']:<17} {r['ragged']!s:<7} "
                f"{r['backend']:<7} {r['ours']['median_ms']:9.3f} "
                f"{r['nn.RNN']['median_ms']:9.3f} {r['ratio_median']:7.2f}",
                flush=True,
            )
    result["timing"] = timing
    result["all_correct"] = all_ok
    result["seconds"] = time.perf_counter() - started
    print(f"\n{'all correctness checks passed' if all_ok else 'CORRECTNESS FAILED'}; "
          f"{result['seconds']:.0f} s")  # fmt: skip
    return write(args.out, result, 0 if all_ok else 1)


def write(path: Path | None, result: dict[str, Any], status: int) -> int:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        print(f"wrote {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
