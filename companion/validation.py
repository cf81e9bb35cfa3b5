"""Argument checks shared by both backends (the contract of chapters 1-8).

Every public function of :mod:`companion.numpy_rnn` and :mod:`companion.torch_rnn`
validates its arguments here, *before* any computation, so that a mistake is
reported as a ``ValueError`` (wrong shape or value) or ``TypeError`` (wrong kind
of object) whose message names the argument, the expected shape and what was
given -- never as an ``IndexError`` from deep inside a loop or as silent
broadcasting.

The checks only look at ``.shape``, ``.ndim`` and the dtype's kind, so they work
for NumPy arrays and torch tensors alike and import neither torch nor the
backends: a torch object can only reach them if the caller imported torch, so
``sys.modules`` is where they look for it.

One policy: ``TypeError`` when the argument is the wrong kind of object (a
str for a size, a bool array for data, a NumPy cell for the torch backend),
``ValueError`` when it is the right kind with a wrong value or shape.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

NONLINEARITIES = ("tanh", "relu")
#: ``backend=`` of :func:`companion.numpy_rnn.dynamic_rnn`.
NUMPY_BACKENDS = ("auto", "loop", "reference")
#: ``backend=`` of :func:`companion.torch_rnn.dynamic_rnn`.
TORCH_BACKENDS = ("loop", "cudnn", "auto", "reference")


def shape_of(array: Any) -> tuple[int, ...]:
    """Return ``array.shape`` as a plain tuple of ints (works for tensors too)."""
    return tuple(int(n) for n in array.shape)


def _fmt(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _expected(dims: Sequence[str], sizes: Sequence[int | None]) -> str:
    """``[batch, n_inputs] = [*, 3]``: names, then sizes (``*`` = any)."""
    names = "[" + ", ".join(dims) + "]"
    values = "[" + ", ".join("*" if s is None else str(s) for s in sizes) + "]"
    return names if all(s is None for s in sizes) else f"{names} = {values}"


def check_int(name: str, value: Any, minimum: int) -> int:
    """An ``int`` (not bool) that is at least ``minimum``; returned as a Python int."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int >= {minimum}; got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value}")
    return int(value)


def check_positive_int(name: str, value: Any) -> int:
    """A layer size: an ``int`` (not bool) that is at least 1."""
    return check_int(name, value, 1)


def check_int_between(name: str, value: Any, minimum: int, maximum: int) -> int:
    """An ``int`` (not bool) in ``[minimum, maximum]``; returned as a Python int."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(
            f"{name} must be an int in [{minimum}, {maximum}]; got {type(value).__name__} {value!r}"
        )
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be an int in [{minimum}, {maximum}]; got {value}")
    return int(value)


def check_token_ids(name: str, ids: Any, vocab_size: int) -> list[int]:
    """Token ids: a list, tuple or 1-D integer array of ints in ``[0, vocab_size)``.

    Returned as a list of Python ints; a torch tensor must be passed as ``t.tolist()``.
    """
    if not isinstance(ids, list | tuple | np.ndarray):
        raise TypeError(
            f"{name} must be a list of token ids (ints in [0, {vocab_size - 1}]); "
            f"got {type(ids).__name__}"
        )
    if isinstance(ids, np.ndarray) and ids.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D sequence of token ids; got an array of shape {_fmt(ids.shape)}"
        )
    return [check_int_between(f"{name}[{i}]", t, 0, vocab_size - 1) for i, t in enumerate(ids)]


def check_positive_number(name: str, value: Any) -> float:
    """A step size or a bound (``lr``, ``max_norm``, ``eps``): a finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number > 0; got {type(value).__name__} {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {value}")
    return float(value)


def check_keep_prob(name: str, value: Any) -> float:
    """``DropoutWrapper``'s ``input_keep_prob``/``output_keep_prob`` (chapter 12): a
    probability of keeping an entry, in (0, 1] (0 would keep nothing and divide by 0)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number in (0, 1]; got {type(value).__name__}")
    if not 0 < value <= 1:
        raise ValueError(f"{name} must be in (0, 1] (the probability of keeping); got {value}")
    return float(value)


def check_dropout(name: str, value: Any) -> float:
    """A dropout probability between layers (``nn.RNN``'s ``dropout``, chapter 12): in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number in [0, 1); got {type(value).__name__}")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1) (the probability of dropping); got {value}")
    return float(value)


def check_seed(seed: Any) -> np.random.Generator:
    """A data generator's ``seed``: an int or a ``numpy.random.Generator`` (used as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(
            f"seed must be an int or a numpy.random.Generator; got {type(seed).__name__}"
        )
    return np.random.default_rng(seed)


def check_array_list(name: str, values: Any) -> list:
    """Gradients or parameters: a list (or tuple) of arrays or tensors, returned as a list."""
    if not isinstance(values, list | tuple):
        raise TypeError(
            f"{name} must be a list (or tuple) of arrays or tensors; got {type(values).__name__}"
        )
    for i, value in enumerate(values):
        if not hasattr(value, "shape"):
            raise TypeError(f"{name}[{i}] must be an array or a tensor; got {type(value).__name__}")
    return list(values)


def check_batch_size(batch: Any) -> int:
    """``zero_state``'s ``batch``: an ``int`` >= 0 (an empty batch is allowed)."""
    return check_int("batch", batch, 0)


def check_bool(name: str, value: Any) -> bool:
    """A switch such as ``GRUCell``'s ``reset_after``: ``True`` or ``False``, nothing else."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool (True or False); got {type(value).__name__}")
    return bool(value)


def check_integer_kind(name: str, value: Any, what: str) -> None:
    """``value`` holds integers; ``what`` describes the expected shape in the message."""
    if dtype_kind(value) not in "iu":
        dtype = getattr(value, "dtype", None)
        dtype = np.asarray(value).dtype if dtype is None else dtype
        raise TypeError(f"{name} must be {what} of integers; got dtype {dtype}")


def check_cell(cell: Any, cls: type) -> None:
    """``cell`` must be an instance of ``cls`` (the backend's own ``BasicRNNCell``)."""
    if not isinstance(cell, cls):
        raise TypeError(
            f"cell must be a {cls.__module__}.{cls.__qualname__}; got {type(cell).__name__}"
        )


def check_cell_types(cell: Any, classes: Sequence[type]) -> None:
    """``cell`` must be an instance of one of ``classes`` (``BasicRNNCell``, ``LSTMCell``, ...)."""
    if not isinstance(cell, tuple(classes)):
        names = ", ".join(f"{cls.__module__}.{cls.__qualname__}" for cls in classes)
        raise TypeError(f"cell must be one of {names}; got {type(cell).__name__}")


def check_named_cell(name: str, cell: Any, classes: Sequence[type]) -> None:
    """A cell argument with its own name (``cell_fw``, ``cell_bw``): one of ``classes``."""
    if not isinstance(cell, tuple(classes)):
        names = ", ".join(f"{cls.__module__}.{cls.__qualname__}" for cls in classes)
        raise TypeError(f"{name} must be one of {names}; got {type(cell).__name__}")


def check_cell_list(cells: Any, classes: Sequence[type]) -> list:
    """``MultiRNNCell``'s ``cells`` : a non-empty list or tuple, one cell per layer,
    each an instance of one of ``classes``."""
    if not isinstance(cells, list | tuple):
        raise TypeError(
            f"cells must be a list (or tuple) of cells, one per layer; got {type(cells).__name__}"
        )
    if len(cells) == 0:
        raise ValueError("cells must hold at least one cell (one per layer); got an empty list")
    names = ", ".join(f"{cls.__module__}.{cls.__qualname__}" for cls in classes)
    for k, cell in enumerate(cells):
        if not isinstance(cell, tuple(classes)):
            raise TypeError(f"cells[{k}] must be one of {names}; got {type(cell).__name__}")
    return list(cells)


def check_layer_sizes(n_inputs: Sequence[int], n_neurons: Sequence[int]) -> None:
    """Stacked layers chain: layer ``k`` reads the outputs of layer ``k - 1``, so its
    ``n_inputs`` must be that layer's ``n_neurons``."""
    for k in range(1, len(n_inputs)):
        if n_inputs[k] != n_neurons[k - 1]:
            raise ValueError(
                f"cells[{k}] must have n_inputs = {n_neurons[k - 1]} (the n_neurons of "
                f"cells[{k - 1}], whose outputs it reads); got n_inputs = {n_inputs[k]}"
            )


def check_same_across(name: str, what: str, values: Sequence[Any]) -> None:
    """Every ``name[k]`` shares ``what`` (a dtype, a device) with ``name[0]``."""
    for k, value in enumerate(values):
        if value != values[0]:
            raise ValueError(
                f"{name}[{k}] must have the same {what} as {name}[0] ({values[0]}); got {value}"
            )


def check_layer_states(name: str, state: Any, n_layers: int) -> None:
    """A ``MultiRNNCell`` state (chapter 12): a tuple of ``n_layers`` states, one per layer.

    Only the structure is checked here; each layer's state is then checked by its
    cell as ``{name}[k]``.
    """
    expected = f"a tuple of {n_layers} states, one per layer"
    if not isinstance(state, tuple | list):
        raise TypeError(f"{name} must be {expected}; got {type(state).__name__}")
    if len(state) != n_layers:
        raise ValueError(f"{name} must be {expected}; got a {type(state).__name__} of {len(state)}")


def check_bidirectional_cells(
    fw_n_inputs: int, bw_n_inputs: int, fw_dtype: Any, bw_dtype: Any
) -> None:
    """``cell_fw`` and ``cell_bw`` both read ``X``: the same ``n_inputs`` and dtype."""
    if bw_n_inputs != fw_n_inputs:
        raise ValueError(
            f"cell_bw must have n_inputs = {fw_n_inputs} like cell_fw (both read X "
            f"[batch, n_steps, {fw_n_inputs}]); got n_inputs = {bw_n_inputs}"
        )
    if bw_dtype != fw_dtype:
        raise ValueError(f"cell_bw must have the dtype of cell_fw ({fw_dtype}); got {bw_dtype}")


def check_backend(backend: Any, allowed: Sequence[str]) -> str:
    """``dynamic_rnn``'s ``backend``: one of ``allowed`` (:data:`NUMPY_BACKENDS`, ...)."""
    allowed = tuple(allowed)
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a str, one of {allowed}; got {type(backend).__name__}")
    if backend not in allowed:
        raise ValueError(f"backend must be one of {allowed}; got {backend!r}")
    return backend


def check_gated_backend(backend: Any, cell_name: str) -> str:
    """torch ``dynamic_rnn``'s ``backend`` for an LSTM or GRU cell: not ``"cudnn"``."""
    backend = check_backend(backend, TORCH_BACKENDS)
    if backend == "cudnn":
        raise ValueError(
            f"backend='cudnn' runs only BasicRNNCell; for a {cell_name} use backend='loop' "
            "(or 'auto'), or cell.to_torch() for PyTorch's fused nn.LSTM / nn.GRU"
        )
    return backend


def _torch_if_loaded() -> Any:
    """The ``torch`` module if something already imported it, else None (never imports it)."""
    return sys.modules.get("torch")


def dtype_kind(value: Any) -> str:
    """The NumPy dtype kind letter (``i``, ``u``, ``f``, ``b``, ``c``, ...) of data.

    Works for torch tensors (without importing torch), NumPy arrays and anything
    ``np.asarray`` accepts.
    """
    torch = _torch_if_loaded()
    if torch is not None and isinstance(value, torch.Tensor):
        if value.dtype == torch.bool:
            return "b"
        if value.is_complex():
            return "c"
        return "f" if value.is_floating_point() else "i"
    return np.asarray(value).dtype.kind


def check_float_dtype(dtype: Any, backend: str) -> Any:
    """A cell's ``dtype``: float32 or float64, in any spelling the backend accepts.

    Parameters
    ----------
    dtype : ``np.float32``, ``"float64"``, ``np.dtype(...)``, or for the torch
        backend also ``torch.float32`` / ``torch.float64``.
    backend : ``"numpy"`` or ``"torch"``

    Returns
    -------
    ``np.dtype`` (NumPy backend) or ``torch.dtype`` (torch backend).

    Raises
    ------
    TypeError
        Anything else (float16, an integer type, a non-dtype), for both backends.
    """
    wanted = "torch.float32 or torch.float64" if backend == "torch" else "float32 or float64"
    torch = _torch_if_loaded()
    if torch is not None and isinstance(dtype, torch.dtype):
        # Only the torch backend takes torch dtypes.
        floats = {torch.float32: "float32", torch.float64: "float64"}
        name = floats.get(dtype) if backend == "torch" else None
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = None
    if name not in ("float32", "float64"):
        shown = f"{dtype!r}" if name is None else name
        raise TypeError(f"dtype must be {wanted}; got {shown}")
    return getattr(torch, name) if backend == "torch" else np.dtype(name)


def check_nonlinearity(nonlinearity: Any) -> str:
    """``"tanh"`` (the basic cell of the course) or ``"relu"``."""
    if not isinstance(nonlinearity, str):
        raise TypeError(
            f"nonlinearity must be a str, one of {NONLINEARITIES}; "
            f"got {type(nonlinearity).__name__}"
        )
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}; got {nonlinearity!r}")
    return nonlinearity


def check_numeric_kind(name: str, kind: str, dtype: Any) -> None:
    """Accept integer or floating data (``kind`` as in ``numpy.dtype.kind``).

    Booleans, complex numbers, strings and objects are refused: they are never
    what a reader meant to feed an RNN.
    """
    if kind not in "iuf":
        raise TypeError(f"{name} must hold integers or floats; got dtype {dtype}")


def check_rank_and_sizes(
    name: str,
    shape: Sequence[int],
    dims: Sequence[str],
    sizes: Sequence[int | None],
) -> None:
    """Check ``len(shape) == len(dims)`` and every non-``None`` size.

    Parameters
    ----------
    name : the argument's name, as the caller wrote it (``"X"``, ``"inputs[2]"``).
    shape : the shape given.
    dims : symbolic names of the expected axes, e.g. ``("batch", "n_inputs")``.
    sizes : the required size of each axis, ``None`` where any size is fine.
    """
    shape = tuple(shape)
    expected = _expected(dims, sizes)
    if len(shape) != len(dims):
        raise ValueError(
            f"{name} must have rank {len(dims)}, shape {expected}; "
            f"got rank {len(shape)}, shape {_fmt(shape)}"
        )
    for axis, (dim, want, got) in enumerate(zip(dims, sizes, shape, strict=True)):
        if want is not None and got != want:
            raise ValueError(
                f"{name} must have shape {expected}; got shape {_fmt(shape)} "
                f"({dim} is {got} on axis {axis}, expected {want})"
            )


def check_weights(Wx_shape: Sequence[int], Wy_shape: Sequence[int], b_shape: Sequence[int]) -> None:
    """Shapes of ``Wx`` [n_inputs, n_neurons], ``Wy`` [n_neurons, n_neurons], ``b`` [n_neurons]."""
    check_rank_and_sizes("Wx", Wx_shape, ("n_inputs", "n_neurons"), (None, None))
    n_inputs, n_neurons = Wx_shape
    if n_inputs < 1 or n_neurons < 1:
        raise ValueError(
            f"Wx must have shape [n_inputs, n_neurons] with both >= 1; got {_fmt(Wx_shape)}"
        )
    check_rank_and_sizes("Wy", Wy_shape, ("n_neurons", "n_neurons"), (n_neurons, n_neurons))
    check_rank_and_sizes("b", b_shape, ("n_neurons",), (n_neurons,))


def check_gate_weights(
    n_gates: int,
    Wx_shape: Sequence[int],
    Wy_shape: Sequence[int],
    bias_shapes: dict[str, Sequence[int]],
) -> None:
    """Shapes of a gated cell's weights (chapter 11): one column block per gate.

    ``Wx`` [n_inputs, n_gates * n_neurons], ``Wy`` [n_neurons, n_gates * n_neurons]
    and every bias [n_gates * n_neurons] (LSTM: 4 gates i, f, g, o; GRU: 3 gates r, z, n).
    ``n_neurons`` is read from ``Wy``'s rows.
    """
    columns = f"{n_gates} * n_neurons"
    check_rank_and_sizes("Wy", Wy_shape, ("n_neurons", columns), (None, None))
    n_neurons = Wy_shape[0]
    if n_neurons < 1 or Wy_shape[1] != n_gates * n_neurons:
        raise ValueError(
            f"Wy must have shape [n_neurons, {columns}] with n_neurons >= 1; got {_fmt(Wy_shape)}"
        )
    check_rank_and_sizes("Wx", Wx_shape, ("n_inputs", columns), (None, n_gates * n_neurons))
    if Wx_shape[0] < 1:
        raise ValueError(
            f"Wx must have shape [n_inputs, {columns}] with n_inputs >= 1; got {_fmt(Wx_shape)}"
        )
    for name, shape in bias_shapes.items():
        check_rank_and_sizes(name, shape, (columns,), (n_gates * n_neurons,))


def check_tf1_kernel(name: str, shape: Sequence[int], n_gates: int) -> tuple[int, int]:
    """A TensorFlow 1.x kernel [n_inputs + n_neurons, n_gates * n_neurons] (rows: x, then h).

    Returns ``(n_inputs, n_neurons)``.
    """
    dims = ("n_inputs + n_neurons", f"{n_gates} * n_neurons")
    check_rank_and_sizes(name, shape, dims, (None, None))
    rows, columns = shape
    n_neurons = columns // n_gates
    if n_neurons < 1 or columns != n_gates * n_neurons or rows <= n_neurons:
        raise ValueError(
            f"{name} must have shape [n_inputs + n_neurons, {n_gates} * n_neurons] with "
            f"n_inputs >= 1 and n_neurons >= 1; got {_fmt(shape)}"
        )
    return rows - n_neurons, n_neurons


def check_finite(name: str, all_finite: bool) -> None:
    """Weights with NaN or inf would silently poison every output."""
    if not all_finite:
        raise ValueError(f"{name} must contain only finite values; got NaN or inf")


def check_step_input(name: str, shape: Sequence[int], n_inputs: int) -> None:
    """One time step's input: ``[batch, n_inputs]``."""
    check_rank_and_sizes(name, shape, ("batch", "n_inputs"), (None, n_inputs))


def check_state(name: str, shape: Sequence[int], batch: int, n_neurons: int) -> None:
    """A hidden state (``h_prev``, ``initial_state``): ``[batch, n_neurons]``."""
    check_rank_and_sizes(name, shape, ("batch", "n_neurons"), (batch, n_neurons))


def check_state_pair(name: str, state: Any, batch: int, n_neurons: int) -> None:
    """An LSTM state (chapter 11): a pair ``(c, h)`` -- an ``LSTMState`` or any 2-tuple/list.

    Only the structure is checked here; each part is then checked with
    :func:`check_state` as ``{name}.c`` and ``{name}.h`` ([batch, n_neurons] each).
    """
    expected = f"a pair (c, h) of [batch, n_neurons] = [{batch}, {n_neurons}] arrays"
    if not isinstance(state, tuple | list):
        raise TypeError(f"{name} must be {expected} (an LSTMState); got {type(state).__name__}")
    if len(state) != 2:
        raise ValueError(f"{name} must be {expected}; got a {type(state).__name__} of {len(state)}")


def check_decoder_state(name: str, state: Any, shape: Sequence[int]) -> None:
    """One array of a decoder's state (beam search): exactly ``shape`` [rows, ...],
    one row per source or hypothesis, the other axes as in the initial state."""
    if not hasattr(state, "shape"):
        raise TypeError(
            f"{name} must be an array or tensor of shape {_fmt(shape)}; got {type(state).__name__}"
        )
    if shape_of(state) != tuple(shape):
        raise ValueError(
            f"{name} must have shape {_fmt(shape)} (one row per source or hypothesis); "
            f"got {_fmt(shape_of(state))}"
        )


def check_input_list(inputs: Any) -> None:
    """``static_rnn``'s inputs: a Python list or tuple of per-step arrays."""
    if not isinstance(inputs, list | tuple):
        raise TypeError(
            "inputs must be a list (or tuple) of n_steps arrays of shape [batch, n_inputs]; "
            f"got {type(inputs).__name__}"
        )


def check_same_step_shapes(shapes: Sequence[Sequence[int]]) -> None:
    """All per-step inputs of ``static_rnn`` must share one shape."""
    for t, shape in enumerate(shapes[1:], start=1):
        if tuple(shape) != tuple(shapes[0]):
            raise ValueError(
                f"inputs[{t}] must have the same shape as inputs[0], {_fmt(shapes[0])}; "
                f"got {_fmt(shape)}"
            )


def sequence_dims(time_major: bool) -> tuple[str, str, str]:
    """Axis names of ``dynamic_rnn``'s ``X``."""
    return ("n_steps", "batch", "n_inputs") if time_major else ("batch", "n_steps", "n_inputs")


def check_sequence_input(shape: Sequence[int], n_inputs: int, time_major: bool) -> None:
    """``X``: ``[batch, n_steps, n_inputs]`` (``[n_steps, batch, n_inputs]`` if time-major)."""
    check_rank_and_sizes("X", shape, sequence_dims(time_major), (None, None, n_inputs))


def check_sequence_length(
    lengths: Any, kind: str, batch: int, n_steps: int, name: str = "sequence_length"
) -> np.ndarray:
    """Validate a vector of sequence lengths and return it as an int64 NumPy vector.

    Parameters
    ----------
    lengths : array-like of shape [batch] (already converted to NumPy by the caller).
    kind : its dtype's kind (``"i"``/``"u"`` accepted).
    batch, n_steps : sizes taken from the inputs.
    name : the argument's name in messages (``sequence_length``, ``lengths``).
    """
    shape = tuple(np.shape(lengths))
    if kind not in "iu":
        raise TypeError(
            f"{name} must be a vector of integers of shape [batch] = [{batch}]; "
            f"got dtype {np.asarray(lengths).dtype}"
        )
    check_rank_and_sizes(name, shape, ("batch",), (batch,))
    lengths = np.asarray(lengths, dtype=np.int64)
    bad = np.flatnonzero((lengths < 0) | (lengths > n_steps))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name} values must lie in [0, n_steps] = [0, {n_steps}]; "
            f"got {name}[{i}] = {int(lengths[i])}"
        )
    return lengths
