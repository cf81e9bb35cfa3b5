"""Bad input gets a clear error, raised before any computation.

The policy is CONTRIBUTING.md's, "`companion` contracts".

Every case runs against both backends. Each asserts the exact exception type
(``TypeError`` for a wrong kind of object or dtype, ``ValueError`` for a wrong
shape or value; never an ``IndexError`` and never silent broadcasting) and that
the message names the argument and shows what was given -- a shape may be
written ``(4, 2, 1)`` or ``[4, 2, 1]``.

The reference problem: a cell with n_inputs=3, n_neurons=5; batch 4; 2 steps.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from strategies import Backend

ROOT = Path(__file__).resolve().parents[1]
F32 = np.float32


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[Backend], object]
    error: type[Exception] | tuple[type[Exception], ...]
    names: tuple[str, ...]  # the message must name at least one of these
    given: tuple[int, ...] | str | None  # a shape that must appear, or a regex

    @property
    def param(self):
        return pytest.param(self, id=self.id)


def z(*shape, dtype=F32) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def cell(B: Backend):
    return B.module.BasicRNNCell(3, 5, seed=0)


def dyn(B: Backend, X=None, **kwargs):
    X = B.array(z(4, 2, 3)) if X is None else X
    return B.module.dynamic_rnn(cell(B), X, **kwargs)


def stat(B: Backend, inputs=None, **kwargs):
    inputs = [B.array(z(4, 3)), B.array(z(4, 3))] if inputs is None else inputs
    return B.module.static_rnn(cell(B), inputs, **kwargs)


def lengths(B: Backend, values, dtype=np.int64):
    return B.array(np.array(values, dtype=dtype))


def other_backend_cell(B: Backend):
    return Backend("torch" if B.name == "numpy" else "numpy").module.BasicRNNCell(3, 5, seed=0)


def torch_rnn(**kwargs):
    import torch

    return torch.nn.RNN(3, 5, **kwargs)


def rnn_with_nan():
    import torch

    rnn = torch_rnn()
    with torch.no_grad():
        rnn.weight_hh_l0[0, 0] = float("nan")
    return rnn


def weights(B: Backend, Wx=(3, 5), Wy=(5, 5), b=(5,), **kwargs):
    def arr(spec):
        return B.array(z(*spec)) if isinstance(spec, tuple) else B.array(spec)

    return B.module.BasicRNNCell.from_weights(arr(Wx), arr(Wy), arr(b), **kwargs)


def with_value(shape, index, value):
    a = np.ones(shape, dtype=F32) * 0.1
    a[index] = value
    return a


STRINGS = np.full((4, 2, 3), "a")
OBJECTS = np.empty((4, 2, 3), dtype=object)

# fmt: off
CASES = [
    # ---- dynamic_rnn: X
    Case("dynamic-X-rank2", lambda B: dyn(B, B.array(z(4, 3))), ValueError, ("X",), (4, 3)),
    Case("dynamic-X-rank1", lambda B: dyn(B, B.array(z(3))), ValueError, ("X",), (3,)),
    Case("dynamic-X-rank0", lambda B: dyn(B, B.array(z())), ValueError, ("X",), ()),
    Case("dynamic-X-rank4", lambda B: dyn(B, B.array(z(4, 2, 3, 1))), ValueError, ("X",),
         (4, 2, 3, 1)),
    Case("dynamic-X-features-1-not-broadcast", lambda B: dyn(B, B.array(z(4, 2, 1))), ValueError,
         ("X",), (4, 2, 1)),
    Case("dynamic-X-features-4", lambda B: dyn(B, B.array(z(4, 2, 4))), ValueError, ("X",),
         (4, 2, 4)),
    Case("dynamic-X-time-major-features", lambda B: dyn(B, B.array(z(2, 4, 1)), time_major=True),
         ValueError, ("X",), (2, 4, 1)),
    Case("dynamic-X-bool", lambda B: dyn(B, B.array(z(4, 2, 3, dtype=bool))), TypeError, ("X",),
         "bool"),
    Case("dynamic-X-complex", lambda B: dyn(B, B.array(z(4, 2, 3, dtype=np.complex64))),
         TypeError, ("X",), "complex"),
    Case("dynamic-X-strings", lambda B: dyn(B, STRINGS), TypeError, ("X",), None),
    Case("dynamic-X-objects", lambda B: dyn(B, OBJECTS), TypeError, ("X",), "object"),
    # ---- dynamic_rnn: sequence_length
    Case("dynamic-seqlen-float", lambda B: dyn(B, sequence_length=lengths(B, [2, 1, 2, 2], F32)),
         TypeError, ("sequence_length",), "float"),
    Case("dynamic-seqlen-bool", lambda B: dyn(B, sequence_length=lengths(B, [1, 1, 0, 1], bool)),
         TypeError, ("sequence_length",), "bool"),
    Case("dynamic-seqlen-2d", lambda B: dyn(B, sequence_length=lengths(B, [[2], [1], [2], [2]])),
         ValueError, ("sequence_length",), (4, 1)),
    Case("dynamic-seqlen-0d", lambda B: dyn(B, sequence_length=lengths(B, 2)), ValueError,
         ("sequence_length",), ()),
    Case("dynamic-seqlen-too-short", lambda B: dyn(B, sequence_length=lengths(B, [2, 1, 2])),
         ValueError, ("sequence_length",), (3,)),
    Case("dynamic-seqlen-too-long", lambda B: dyn(B, sequence_length=lengths(B, [2] * 5)),
         ValueError, ("sequence_length",), (5,)),
    Case("dynamic-seqlen-negative", lambda B: dyn(B, sequence_length=lengths(B, [2, -1, 2, 2])),
         ValueError, ("sequence_length",), r"-1\b"),
    Case("dynamic-seqlen-beyond-n-steps",
         lambda B: dyn(B, sequence_length=lengths(B, [2, 7, 0, 1])),
         ValueError, ("sequence_length",), r"\b7\b"),
    Case("dynamic-seqlen-beyond-n-steps-time-major",
         lambda B: dyn(B, B.array(z(2, 4, 3)), time_major=True,
                       sequence_length=lengths(B, [2, 2, 4, 2])),
         ValueError, ("sequence_length",), r"\b4\b"),
    # ---- dynamic_rnn: initial_state
    Case("dynamic-state-neurons", lambda B: dyn(B, initial_state=B.array(z(4, 4))), ValueError,
         ("initial_state",), (4, 4)),
    Case("dynamic-state-batch", lambda B: dyn(B, initial_state=B.array(z(3, 5))), ValueError,
         ("initial_state",), (3, 5)),
    Case("dynamic-state-batch-1-not-broadcast", lambda B: dyn(B, initial_state=B.array(z(1, 5))),
         ValueError, ("initial_state",), (1, 5)),
    Case("dynamic-state-rank1-not-broadcast", lambda B: dyn(B, initial_state=B.array(z(5))),
         ValueError, ("initial_state",), (5,)),
    Case("dynamic-state-rank3", lambda B: dyn(B, initial_state=B.array(z(1, 4, 5))), ValueError,
         ("initial_state",), (1, 4, 5)),
    Case("dynamic-state-bool", lambda B: dyn(B, initial_state=B.array(z(4, 5, dtype=bool))),
         TypeError, ("initial_state",), "bool"),
    # ---- dynamic_rnn: cell
    Case("dynamic-cell-object", lambda B: B.module.dynamic_rnn(object(), B.array(z(4, 2, 3))),
         TypeError, ("cell",), "object"),
    Case("dynamic-cell-none", lambda B: B.module.dynamic_rnn(None, B.array(z(4, 2, 3))),
         TypeError, ("cell",), "None"),
    Case("dynamic-cell-other-backend",
         lambda B: B.module.dynamic_rnn(other_backend_cell(B), B.array(z(4, 2, 3))),
         TypeError, ("cell",), None),
    Case("dynamic-cell-nn-rnn", lambda B: B.module.dynamic_rnn(torch_rnn(), B.array(z(4, 2, 3))),
         TypeError, ("cell",), "RNN"),
    # ---- static_rnn
    Case("static-inputs-array", lambda B: stat(B, B.array(z(2, 4, 3))), TypeError, ("inputs",),
         "ndarray|Tensor"),
    Case("static-inputs-generator", lambda B: stat(B, (B.array(z(4, 3)) for _ in range(2))),
         TypeError, ("inputs",), "generator"),
    Case("static-inputs1-features", lambda B: stat(B, [B.array(z(4, 3)), B.array(z(4, 1))]),
         ValueError, ("inputs[1]",), (4, 1)),
    Case("static-inputs1-batch", lambda B: stat(B, [B.array(z(4, 3)), B.array(z(3, 3))]),
         ValueError, ("inputs[1]",), (3, 3)),
    Case("static-inputs0-rank3", lambda B: stat(B, [B.array(z(1, 4, 3)), B.array(z(4, 3))]),
         ValueError, ("inputs[0]",), (1, 4, 3)),
    Case("static-inputs0-rank1", lambda B: stat(B, [B.array(z(3)), B.array(z(3))]),
         ValueError, ("inputs[0]",), (3,)),
    Case("static-inputs2-rank1",
         lambda B: stat(B, [B.array(z(4, 3)), B.array(z(4, 3)), B.array(z(3))]),
         ValueError, ("inputs[2]",), (3,)),
    Case("static-inputs1-bool",
         lambda B: stat(B, [B.array(z(4, 3)), B.array(z(4, 3, dtype=bool))]),
         TypeError, ("inputs[1]",), "bool"),
    Case("static-state-batch", lambda B: stat(B, initial_state=B.array(z(3, 5))), ValueError,
         ("initial_state",), (3, 5)),
    Case("static-state-rank1", lambda B: stat(B, initial_state=B.array(z(5))), ValueError,
         ("initial_state",), (5,)),
    Case("static-empty-inputs-bad-state", lambda B: stat(B, [], initial_state=B.array(z(4, 4))),
         ValueError, ("initial_state",), (4, 4)),
    Case("static-seqlen-length", lambda B: stat(B, sequence_length=lengths(B, [2, 1, 2])),
         ValueError, ("sequence_length",), (3,)),
    Case("static-seqlen-beyond-n-steps",
         lambda B: stat(B, sequence_length=lengths(B, [2, 7, 2, 2])),
         ValueError, ("sequence_length",), r"\b7\b"),
    Case("static-seqlen-float", lambda B: stat(B, sequence_length=lengths(B, [2, 1, 2, 2], F32)),
         TypeError, ("sequence_length",), "float"),
    Case("static-cell-object", lambda B: B.module.static_rnn(object(), [B.array(z(4, 3))]),
         TypeError, ("cell",), "object"),
    # ---- cell(x_t, h_prev)
    Case("call-x-rank1", lambda B: cell(B)(B.array(z(3))), ValueError, ("x_t",), (3,)),
    Case("call-x-features", lambda B: cell(B)(B.array(z(4, 2))), ValueError, ("x_t",), (4, 2)),
    Case("call-x-rank3", lambda B: cell(B)(B.array(z(1, 4, 3))), ValueError, ("x_t",), (1, 4, 3)),
    Case("call-x-bool", lambda B: cell(B)(B.array(z(4, 3, dtype=bool))), TypeError, ("x_t",),
         "bool"),
    Case("call-h-neurons", lambda B: cell(B)(B.array(z(4, 3)), B.array(z(4, 4))), ValueError,
         ("h_prev",), (4, 4)),
    Case("call-h-batch", lambda B: cell(B)(B.array(z(4, 3)), B.array(z(2, 5))), ValueError,
         ("h_prev",), (2, 5)),
    Case("call-h-batch-1-not-broadcast", lambda B: cell(B)(B.array(z(4, 3)), B.array(z(1, 5))),
         ValueError, ("h_prev",), (1, 5)),
    Case("call-h-rank1-not-broadcast", lambda B: cell(B)(B.array(z(4, 3)), B.array(z(5))),
         ValueError, ("h_prev",), (5,)),
    Case("call-h-complex",
         lambda B: cell(B)(B.array(z(4, 3)), B.array(z(4, 5, dtype=np.complex128))),
         TypeError, ("h_prev",), "complex"),
    # ---- BasicRNNCell(...)
    Case("init-n-inputs-0", lambda B: B.module.BasicRNNCell(0, 5), ValueError, ("n_inputs",),
         r"\b0\b"),
    Case("init-n-neurons-0", lambda B: B.module.BasicRNNCell(3, 0), ValueError, ("n_neurons",),
         r"\b0\b"),
    Case("init-n-neurons-negative", lambda B: B.module.BasicRNNCell(3, -2), ValueError,
         ("n_neurons",), r"-2\b"),
    Case("init-nonlinearity-unknown", lambda B: B.module.BasicRNNCell(3, 5, nonlinearity="sigmoid"),
         ValueError, ("nonlinearity",), "sigmoid"),
    Case("init-nonlinearity-none", lambda B: B.module.BasicRNNCell(3, 5, nonlinearity=None),
         TypeError, ("nonlinearity",), "None"),
    Case("init-nonlinearity-callable", lambda B: B.module.BasicRNNCell(3, 5, nonlinearity=np.tanh),
         TypeError, ("nonlinearity",), None),
    Case("init-dtype-float16", lambda B: B.module.BasicRNNCell(3, 5, dtype=B.dtype("float16")),
         TypeError, ("dtype",), "float16|half"),
    Case("init-dtype-int32", lambda B: B.module.BasicRNNCell(3, 5, dtype=B.dtype("int32")),
         TypeError, ("dtype",), "int32"),
    # ---- BasicRNNCell.from_weights(...)
    Case("weights-Wx-rank1", lambda B: weights(B, Wx=(3,)), ValueError, ("Wx",), (3,)),
    Case("weights-Wx-rank3", lambda B: weights(B, Wx=(2, 3, 5)), ValueError, ("Wx",), (2, 3, 5)),
    Case("weights-Wy-not-square", lambda B: weights(B, Wy=(5, 4)), ValueError, ("Wy",), (5, 4)),
    Case("weights-Wy-disagrees-with-Wx", lambda B: weights(B, Wy=(4, 4), b=(4,)), ValueError,
         ("Wy",), (4, 4)),
    Case("weights-b-2d-not-broadcast", lambda B: weights(B, b=(1, 5)), ValueError, ("b",), (1, 5)),
    Case("weights-b-column", lambda B: weights(B, b=(5, 1)), ValueError, ("b",), (5, 1)),
    Case("weights-b-length", lambda B: weights(B, b=(4,)), ValueError, ("b",), (4,)),
    Case("weights-b-scalar", lambda B: weights(B, b=()), ValueError, ("b",), ()),
    Case("weights-Wx-nan", lambda B: weights(B, Wx=with_value((3, 5), (1, 2), np.nan)),
         ValueError, ("Wx",), "(?i)nan|finite"),
    Case("weights-Wy-inf", lambda B: weights(B, Wy=with_value((5, 5), (0, 4), np.inf)),
         ValueError, ("Wy",), "(?i)inf"),
    Case("weights-b-minus-inf", lambda B: weights(B, b=with_value((5,), 3, -np.inf)),
         ValueError, ("b",), "(?i)inf"),
    Case("weights-Wx-bool", lambda B: weights(B, Wx=z(3, 5, dtype=bool)), TypeError, ("Wx",),
         "bool"),
    Case("weights-Wy-complex", lambda B: weights(B, Wy=z(5, 5, dtype=np.complex64)), TypeError,
         ("Wy",), "complex"),
    Case("weights-dtype-float16", lambda B: weights(B, dtype=B.dtype("float16")), TypeError,
         ("dtype",), "float16|half"),
    Case("weights-nonlinearity-unknown", lambda B: weights(B, nonlinearity="sigmoid"),
         ValueError, ("nonlinearity",), "sigmoid"),
    Case("weights-zero-neurons", lambda B: weights(B, Wx=(3, 0), Wy=(0, 0), b=(0,)), ValueError,
         ("Wx", "Wy", "b", "n_neurons"), None),
    Case("weights-zero-inputs", lambda B: weights(B, Wx=(0, 5)), ValueError, ("Wx", "n_inputs"),
         (0, 5)),
    # ---- BasicRNNCell.from_torch_rnn(...)
    Case("torch-rnn-two-layers", lambda B: B.module.BasicRNNCell.from_torch_rnn(
        torch_rnn(num_layers=2)), ValueError, ("rnn", "num_layers"), r"\b2\b"),
    Case("torch-rnn-bidirectional", lambda B: B.module.BasicRNNCell.from_torch_rnn(
        torch_rnn(bidirectional=True)), ValueError, ("rnn", "bidirectional"), None),
    Case("torch-rnn-nan", lambda B: B.module.BasicRNNCell.from_torch_rnn(rnn_with_nan()),
         ValueError, ("rnn", "weight_hh_l0", "Wy"), "(?i)nan|finite"),
    Case("torch-rnn-not-an-rnn", lambda B: B.module.BasicRNNCell.from_torch_rnn(object()),
         TypeError, ("rnn",), "object"),
    Case("torch-rnn-lstm", lambda B: B.module.BasicRNNCell.from_torch_rnn(
        __import__("torch").nn.LSTM(3, 5)), (TypeError, ValueError), ("rnn",), "LSTM"),
    # ---- dynamic_rnn(..., backend=...), both backends
    Case("dynamic-backend-unknown", lambda B: dyn(B, backend="fast"), ValueError, ("backend",),
         "fast"),
    Case("dynamic-backend-not-a-str", lambda B: dyn(B, backend=1), TypeError, ("backend",), "int"),
    # ---- cell.zero_state(batch)
    Case("zero-state-negative", lambda B: cell(B).zero_state(-1), ValueError, ("batch",), "-1"),
    Case("zero-state-float", lambda B: cell(B).zero_state(2.0), TypeError, ("batch",), "float"),
    Case("zero-state-bool", lambda B: cell(B).zero_state(True), TypeError, ("batch",), "bool"),
]
# fmt: on


def name_pattern(name: str) -> str:
    return rf"(?<![\w\[]){re.escape(name)}(?![\w\[])" if "[" not in name else re.escape(name)


def shape_pattern(shape: tuple[int, ...]) -> str:
    """``(4, 2, 1)``, ``[4, 2, 1]``, ``torch.Size([4, 2, 1])``, ``(5,)``, ``()`` ..."""
    inner = r"\s*,\s*".join(str(n) for n in shape)
    return rf"[\(\[]\s*{inner}\s*,?\s*[\)\]]"


def check_message(message: str, case: Case) -> None:
    assert any(re.search(name_pattern(n), message) for n in case.names), (
        f"message does not name {' or '.join(case.names)}: {message!r}"
    )
    if isinstance(case.given, tuple):
        assert re.search(shape_pattern(case.given), message), (
            f"message does not show the given shape {case.given}: {message!r}"
        )
    elif isinstance(case.given, str):
        assert re.search(case.given, message), (
            f"message does not show what was given ({case.given!r}): {message!r}"
        )


@pytest.mark.parametrize("case", [c.param for c in CASES])
def test_bad_input_is_rejected_with_a_clear_message(backend: Backend, case: Case):
    with pytest.raises(case.error) as info:
        case.call(backend)
    assert not isinstance(info.value, IndexError)
    check_message(str(info.value), case)


def test_a_cell_of_the_other_backend_is_named_in_the_message(backend: Backend):
    with pytest.raises(TypeError, match=rf"companion\.{backend.name}_rnn\.BasicRNNCell"):
        backend.module.dynamic_rnn(other_backend_cell(backend), backend.array(z(4, 2, 3)))


def test_dtype_kind_reads_arrays_tensors_and_lists_alike():
    import torch

    from companion import validation as v

    for value, kind in ((np.zeros(2, np.int32), "i"), (torch.zeros(2, dtype=torch.bool), "b"),
                        (torch.zeros(2), "f"), (torch.zeros(2, dtype=torch.int64), "i"),
                        (torch.zeros(2, dtype=torch.complex64), "c"), ([1.5], "f")):  # fmt: skip
        assert v.dtype_kind(value) == kind


def test_table_has_unique_ids():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


# --------------------------------------------------------------- torch devices


def meta(shape):
    import torch

    return torch.zeros(shape, device="meta")


# fmt: off
DEVICE_CASES = [
    Case("device-X", lambda B: dyn(B, meta((4, 2, 3))), ValueError, ("X",), "meta"),
    Case("device-initial-state", lambda B: dyn(B, initial_state=meta((4, 5))), ValueError,
         ("initial_state",), "meta"),
    Case("device-inputs1", lambda B: stat(B, [B.array(z(4, 3)), meta((4, 3))]), ValueError,
         ("inputs[1]",), "meta"),
    Case("device-x-t", lambda B: cell(B)(meta((4, 3))), ValueError, ("x_t",), "meta"),
    Case("device-h-prev", lambda B: cell(B)(B.array(z(4, 3)), meta((4, 5))), ValueError,
         ("h_prev",), "meta"),
]
# fmt: on


@pytest.mark.parametrize("case", [c.param for c in DEVICE_CASES])
def test_torch_tensor_on_another_device_is_rejected(case: Case):
    """A tensor on another device than the cell is a ValueError, never a silent move."""
    with pytest.raises(case.error) as info:
        case.call(Backend("torch"))
    check_message(str(info.value), case)


# ------------------------------------------------------ before any computation


class ComputeRecorder:
    """Records the names of the torch functions called inside ``with recorder.mode``."""

    COMPUTE = {"matmul", "__matmul__", "mm", "addmm", "tanh", "relu", "linear", "bmm", "baddbmm"}

    def __init__(self):
        from torch.overrides import TorchFunctionMode

        seen = self.seen = []

        class Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                seen.append(getattr(func, "__name__", ""))
                return func(*args, **(kwargs or {}))

        self.mode = Mode()

    @property
    def computed(self) -> set[str]:
        return self.COMPUTE & set(self.seen)


def test_torch_validates_every_argument_before_computing():
    import torch

    B = Backend("torch")
    c = cell(B)
    X = torch.zeros(4, 3, 3)
    steps = list(X.unbind(1))
    bad_calls = [
        lambda: B.module.dynamic_rnn(c, X, sequence_length=torch.tensor([2, 1, 4, 2])),
        lambda: B.module.dynamic_rnn(c, X, initial_state=torch.zeros(4, 4)),
        lambda: B.module.dynamic_rnn(c, X, sequence_length=torch.tensor([2, 1, 2])),
        lambda: B.module.static_rnn(c, [*steps, torch.zeros(4, 1)]),  # only the last step is bad
        lambda: B.module.static_rnn(c, steps, sequence_length=torch.tensor([1, 1, 4, 1])),
        lambda: B.module.static_rnn(c, steps, initial_state=torch.zeros(3, 5)),
        lambda: c(X[:, 0], torch.zeros(4, 4)),
    ]
    for call in bad_calls:
        recorder = ComputeRecorder()
        with recorder.mode, pytest.raises(ValueError):
            call()
        assert not recorder.computed, sorted(recorder.computed)
    for good in (lambda: B.module.dynamic_rnn(c, X), lambda: B.module.static_rnn(c, steps)):
        recorder = ComputeRecorder()
        with recorder.mode:
            good()
        assert recorder.computed  # the recorder does see real work


# --------------------------------------------------------- numpy without torch


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_importing_numpy_rnn_does_not_import_torch():
    result = run_python(
        "import sys\n"
        "import companion, companion.numpy_rnn\n"
        "leaked = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
        "print(leaked)\n"
        "assert not leaked, leaked\n"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_numpy_rnn_works_without_torch_installed():
    """torch is an optional extra: the NumPy reference must run where it cannot be imported."""
    result = run_python(
        "import sys\n"
        "sys.modules['torch'] = None  # makes 'import torch' fail\n"
        "import numpy as np\n"
        "import companion.numpy_rnn as nr\n"
        "cell = nr.BasicRNNCell(3, 5, seed=0)\n"
        "X = np.array([[[0, 1, 2], [9, 8, 7]], [[3, 4, 5], [0, 0, 0]]])\n"
        "out, state = nr.dynamic_rnn(cell, X, sequence_length=np.array([2, 1]))\n"
        "outs, _ = nr.static_rnn(cell, [X[:, 0], X[:, 1]], initial_state=cell.zero_state(2))\n"
        "assert out.shape == (2, 2, 5) and out[1, 1].sum() == 0 and len(outs) == 2\n"
        "try:\n"
        "    nr.dynamic_rnn(cell, np.zeros((4, 2, 1)))\n"
        "except ValueError as e:\n"
        "    print('ok:', e)\n"
        "else:\n"
        "    raise AssertionError('no ValueError')\n"
    )
    assert result.returncode == 0, result.stdout + result.stderr
