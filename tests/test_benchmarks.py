"""The benchmark scripts run and write the JSON the appendix page reads (no timing asserted).

``make bench`` (``benchmarks/run.py``) and ``benchmarks/gpu_check.py`` are not
run by CI for their numbers; these smoke tests keep them from rotting: they run
on tiny shapes with one repeat and check the structure of what they write.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def load(name: str):
    spec = importlib.util.spec_from_file_location(
        f"bench_{name}", ROOT / "benchmarks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def keep_torch_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


COMPARISONS = {
    "numpy fwd", "numpy fwd ragged", "torch fwd ragged", "torch fwd+bwd",
    "LSTM torch fwd+bwd", "LSTM numpy fwd", "GRU torch fwd+bwd", "GRU numpy fwd",
    "seq2seq training",
}  # fmt: skip


@pytest.mark.usefixtures("keep_torch_threads")
def test_runner_writes_every_section(tmp_path, monkeypatch):
    run = load("run")
    monkeypatch.setattr(run, "SHAPES", [(4, 3, 2, 5), (6, 4, 3, 8)])
    monkeypatch.setattr(run, "CELL_SHAPE", (4, 3, 2, 5))
    monkeypatch.setattr(run, "PEAK_GEMM_N", 32)
    monkeypatch.setattr(run, "SEQ2SEQ_SHAPE", (8, 8, 4, 6))
    monkeypatch.setattr(run, "SEQ2SEQ_BATCHES", 2)
    monkeypatch.setitem(run.SETTINGS, "rounds", 1)
    monkeypatch.setitem(run.SETTINGS, "min_run_time", 0.001)
    monkeypatch.setattr(run.time, "sleep", lambda s: None)
    out = tmp_path / "cpu.json"
    assert run.main(["--threads", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert {r["comparison"] for r in result["rows"]} == COMPARISONS
    for r in result["rows"]:
        assert r["ratio"] == pytest.approx(r["ours_ms"] / r["baseline_ms"])
        assert r["met"] == (r["ratio"] <= r["target"])
    assert result["all_targets_met"] == all(r["met"] for r in result["rows"])
    assert set(result["breakdown"]) == set(result["step_cost"]) == {"(4, 3, 2, 5)", "(6, 4, 3, 8)"}
    assert set(result["timings_ms"]) == {
        "(4, 3, 2, 5)", "(6, 4, 3, 8)", "LSTM", "GRU", "training"
    }  # fmt: skip
    assert result["machine"]["threads"] == 1
    assert not list(tmp_path.glob("*.tmp.json"))  # written atomically


def test_floors_compute_the_same_layer():
    """A floor is only a floor if it computes what companion computes."""
    run = load("run")
    p = run.Problem((5, 4, 3, 6), seed=3)
    run.check_same_results(p)  # raises SystemExit on a disagreement
    p.lengths[:] = [4, 1, 3, 1, 2]
    run.check_same_results(p)


def test_committed_results_have_what_the_appendix_reads():
    result = json.loads((ROOT / "benchmarks" / "results" / "cpu.json").read_text())
    shapes = [tuple(s) for s in result["settings"]["shapes"]]
    assert (64, 50, 32, 128) in shapes and (256, 100, 128, 256) in shapes
    assert {r["comparison"] for r in result["rows"]} == COMPARISONS
    for shape in shapes:
        assert str(shape) in result["breakdown"] and str(shape) in result["step_cost"]


def test_gpu_check_without_cuda_says_so(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: benchmarks/gpu_check.py is run by hand there")
    gpu_check = load("gpu_check")
    out = tmp_path / "gpu.json"
    assert gpu_check.main(["--out", str(out)]) == 0
    assert json.loads(out.read_text())["cuda"] is False


def test_gpu_check_logic_runs_on_the_cpu(tmp_path, monkeypatch):
    """The dry run executes every check of the script with the CPU standing in for the GPU."""
    gpu_check = load("gpu_check")
    monkeypatch.setattr(gpu_check, "SHAPES", [(4, 3, 2, 5)])
    monkeypatch.setattr(sys.modules["companion.fast.cudnn"], "cudnn_usable", lambda d: True)
    out = tmp_path / "gpu.json"
    assert gpu_check.main(["--dry-run-on-cpu", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["all_correct"] and len(result["correctness"]) == 16
