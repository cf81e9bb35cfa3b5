"""Shared test data for the ``companion`` tests: hypothesis strategies and NumPy oracles.

Everything here is written from the contract in ``CONTRIBUTING.md`` ("`companion`
contracts"), never from the implementation:

* :func:`rnn_cases` -- a hypothesis strategy for random RNN problems
  (batch, n_steps, sizes, lengths including 0 and full length, initial state);
* :func:`reference_rnn` -- a direct NumPy loop of equation (1.2) with TensorFlow
  1.x ``sequence_length`` semantics, used as the oracle in the unit tests;
* the source chapter's 4-instance, 2-step example (:data:`CHAPTER_X0`,
  :data:`CHAPTER_X1`, :func:`chapter_weights`);
* :func:`assert_bitwise_zero` -- "exactly 0.0", i.e. not ``-0.0`` and not NaN;
* :class:`Backend` -- one of the two implementations, with array converters;
* :func:`torch_outputs_and_gradients` -- a case run through ``torch_rnn.dynamic_rnn``
  with every gradient of a random scalar loss (for the tests that compare two runs).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from hypothesis import strategies as st

# The source chapter's mini-batch: 4 instances, 3 inputs, 2 time steps.
CHAPTER_X0 = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 0, 1]])  # t = 0
CHAPTER_X1 = np.array([[9, 8, 7], [0, 0, 0], [6, 5, 4], [3, 2, 1]])  # t = 1
CHAPTER_LENGTHS = np.array([2, 1, 2, 2])


def chapter_weights(seed: int = 42, dtype=np.float32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Wx`` [3, 5] and ``Wy`` [5, 5] drawn from a standard normal, ``b`` = 0."""
    rng = np.random.default_rng(seed)
    Wx = rng.standard_normal((3, 5)).astype(dtype)
    Wy = rng.standard_normal((5, 5)).astype(dtype)
    b = np.zeros(5, dtype=dtype)
    return Wx, Wy, b


def random_weights(
    n_inputs: int = 3, n_neurons: int = 5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float64 ``Wx``, ``Wy`` ~ U(-0.8, 0.8) and a non-zero ``b`` ~ U(-0.5, 0.5).

    The default init has ``b = 0``, which would hide a forgotten bias.
    """
    rng = np.random.default_rng(seed)
    Wx = rng.uniform(-0.8, 0.8, (n_inputs, n_neurons))
    Wy = rng.uniform(-0.8, 0.8, (n_neurons, n_neurons))
    b = rng.uniform(-0.5, 0.5, n_neurons)
    return Wx, Wy, b


def chapter_by_hand(Wx: np.ndarray, Wy: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The chapter's hand-unrolled two steps, in float64: Y0, Y1 (each [4, 5])."""
    Wx, Wy, b = (np.asarray(a, dtype=np.float64) for a in (Wx, Wy, b))
    Y0 = np.tanh(CHAPTER_X0 @ Wx + b)
    Y1 = np.tanh(Y0 @ Wy + CHAPTER_X1 @ Wx + b)
    return Y0, Y1


def phi(nonlinearity: str):
    """The activation named by ``nonlinearity``."""
    return {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}[nonlinearity]


def reference_rnn(
    X: np.ndarray,
    Wx: np.ndarray,
    Wy: np.ndarray,
    b: np.ndarray,
    *,
    initial_state: np.ndarray | None = None,
    sequence_length: np.ndarray | None = None,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, np.ndarray]:
    """Oracle: ``h_t = phi(x_t Wx + h_{t-1} Wy + b)`` in float64, batch-major.

    For ``t >= length[i]`` the output is 0 and the state is carried unchanged.
    Padding values (even NaN) never reach the outputs or the state.
    """
    X = np.asarray(X, dtype=np.float64)
    Wx, Wy, b = (np.asarray(a, dtype=np.float64) for a in (Wx, Wy, b))
    batch, n_steps, _ = X.shape
    n_neurons = Wy.shape[0]
    f = phi(nonlinearity)
    h = (
        np.zeros((batch, n_neurons))
        if initial_state is None
        else np.array(initial_state, dtype=np.float64)
    )
    lengths = np.full(batch, n_steps) if sequence_length is None else np.asarray(sequence_length)
    outputs = np.zeros((batch, n_steps, n_neurons))
    for t in range(n_steps):
        valid = t < lengths
        h_new = f(X[valid, t] @ Wx + h[valid] @ Wy + b)
        outputs[valid, t] = h_new
        h[valid] = h_new
    return outputs, h


def assert_bitwise_zero(a: np.ndarray) -> None:
    """Every element is +0.0: equal to zero and without the sign bit (so not -0.0)."""
    a = np.asarray(a)
    assert np.all(a == 0), f"expected exact zeros, got {a!r}"
    assert not np.any(np.signbit(a)), f"expected +0.0, got -0.0 somewhere in {a!r}"


@dataclass(frozen=True)
class RNNCase:
    """One random RNN problem; the arrays come from ``seed`` (see :meth:`arrays`)."""

    batch: int
    n_steps: int
    n_inputs: int
    n_neurons: int
    lengths: tuple[int, ...] | None
    with_initial_state: bool
    nonlinearity: str
    time_major: bool
    seed: int

    @property
    def sequence_length(self) -> np.ndarray | None:
        return None if self.lengths is None else np.array(self.lengths, dtype=np.int64)

    @property
    def effective_lengths(self) -> np.ndarray:
        """The lengths, with ``None`` meaning every sequence is full length."""
        if self.lengths is None:
            return np.full(self.batch, self.n_steps, dtype=np.int64)
        return np.array(self.lengths, dtype=np.int64)

    def arrays(self, dtype=np.float32) -> dict[str, np.ndarray | None]:
        """Batch-major ``X``, ``initial_state`` (or None), ``Wx``, ``Wy``, ``b`` of ``dtype``."""
        rng = np.random.default_rng(self.seed)
        k = 1.0 / np.sqrt(self.n_neurons)
        X = rng.standard_normal((self.batch, self.n_steps, self.n_inputs))
        h0 = rng.standard_normal((self.batch, self.n_neurons)) if self.with_initial_state else None
        Wx = rng.uniform(-k, k, (self.n_inputs, self.n_neurons))
        Wy = rng.uniform(-k, k, (self.n_neurons, self.n_neurons))
        b = rng.uniform(-0.5, 0.5, self.n_neurons)
        cast = {"X": X, "initial_state": h0, "Wx": Wx, "Wy": Wy, "b": b}
        return {name: None if a is None else a.astype(dtype) for name, a in cast.items()}

    def loss_weights(self, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
        """Random weights for a scalar loss ``sum(outputs * w_out) + sum(state * w_state)``."""
        rng = np.random.default_rng(self.seed + 1)
        w_out = rng.standard_normal((self.batch, self.n_steps, self.n_neurons)).astype(dtype)
        w_state = rng.standard_normal((self.batch, self.n_neurons)).astype(dtype)
        return w_out, w_state


@st.composite
def rnn_cases(
    draw,
    *,
    max_batch: int = 6,
    min_steps: int = 0,
    max_steps: int = 7,
    max_size: int = 8,
    nonlinearities: tuple[str, ...] = ("tanh", "relu"),
) -> RNNCase:
    """Random RNN problems. Lengths lean towards the edges: 0 and full length."""
    batch = draw(st.integers(1, max_batch))
    n_steps = draw(st.integers(min_steps, max_steps))
    one_length = st.one_of(st.just(0), st.just(n_steps), st.integers(0, n_steps))
    lengths = draw(st.none() | st.tuples(*[one_length] * batch))
    return RNNCase(
        batch=batch,
        n_steps=n_steps,
        n_inputs=draw(st.integers(1, max_size)),
        n_neurons=draw(st.integers(1, max_size)),
        lengths=lengths,
        with_initial_state=draw(st.booleans()),
        nonlinearity=draw(st.sampled_from(nonlinearities)),
        time_major=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 2)),
    )


@dataclass(frozen=True)
class Backend:
    """One of the two implementations, with converters to and from its array type."""

    name: str  # "numpy" or "torch"

    @property
    def module(self) -> ModuleType:
        return importlib.import_module(f"companion.{self.name}_rnn")

    @property
    def array_type(self) -> type:
        """The class of this backend's arrays: ``np.ndarray`` or ``torch.Tensor``."""
        if self.name == "numpy":
            return np.ndarray
        import torch

        return torch.Tensor

    def array(self, a):
        """A NumPy array as this backend's native array (keeps the dtype)."""
        a = np.asarray(a)
        if self.name == "numpy":
            return a
        import torch

        return torch.from_numpy(a.copy())  # (np.ascontiguousarray turns 0-d into 1-d)

    def dtype(self, name: str):
        """The dtype object this backend's ``dtype=`` argument takes, e.g. ``"float64"``."""
        if self.name == "numpy":
            return np.dtype(name).type
        import torch

        return getattr(torch, name)

    def dtype_name(self, dtype) -> str:
        """The name of a dtype of this backend (``np.float32``, ``torch.float32`` -> "float32")."""
        if self.name == "numpy":
            return np.dtype(dtype).name
        return str(dtype).removeprefix("torch.")

    @staticmethod
    def numpy(a) -> np.ndarray:
        """Any backend's array as a NumPy array."""
        if isinstance(a, np.ndarray):
            return a
        return a.detach().cpu().numpy()


def float64_tensors(case: RNNCase) -> dict:
    """The case's arrays as float64 tensors, always with an initial state."""
    import torch

    arrays = case.arrays(np.float64)
    if arrays["initial_state"] is None:
        rng = np.random.default_rng(case.seed + 2)
        arrays["initial_state"] = rng.standard_normal((case.batch, case.n_neurons))
    return {k: torch.from_numpy(v) for k, v in arrays.items()}


def torch_outputs_and_gradients(case: RNNCase, **kwargs) -> list:
    """Outputs, state and d(loss)/d(X, h0, Wx, Wy, b) of ``case`` through ``torch_rnn``.

    float64, always with an initial state; the loss is ``sum(outputs * w_out) +
    sum(state * w_state)`` with :meth:`RNNCase.loss_weights`; ``kwargs`` go to
    ``dynamic_rnn`` (e.g. ``swap_memory``). Outputs come back batch-major. A
    gradient that autograd leaves at None (the tensor was not used) is returned as
    zeros, so two runs compare element by element.
    """
    import torch

    from companion import torch_rnn

    p = float64_tensors(case)
    w_out, w_state = map(torch.from_numpy, case.loss_weights())
    X = p["X"].requires_grad_(True)
    h0 = p["initial_state"].requires_grad_(True)
    cell = torch_rnn.BasicRNNCell.from_weights(
        p["Wx"], p["Wy"], p["b"], nonlinearity=case.nonlinearity
    )
    out, state = torch_rnn.dynamic_rnn(
        cell,
        X.transpose(0, 1) if case.time_major else X,
        sequence_length=case.sequence_length,
        initial_state=h0,
        time_major=case.time_major,
        **kwargs,
    )
    if case.time_major:
        out = out.transpose(0, 1)
    ((out * w_out).sum() + (state * w_state).sum()).backward()
    grads = [
        torch.zeros_like(t) if t.grad is None else t.grad for t in (X, h0, cell.Wx, cell.Wy, cell.b)
    ]
    return [out.detach(), state.detach(), *grads]
