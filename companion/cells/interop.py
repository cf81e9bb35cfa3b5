"""LSTM and GRU weights to and from ``torch.nn`` and TensorFlow 1.x (chapter 11, appendix).

PyTorch keeps each weight transposed and, for the LSTM, two biases that are
only ever added. With the course's row-vector notation::

    nn.LSTM:  weight_ih = Wx.T   weight_hh = Wy.T   b = bias_ih + bias_hh    gates i, f, g, o
    nn.GRU:   weight_ih = Wx.T   weight_hh = Wy.T   bx = bias_ih, by = bias_hh   gates r, z, n

The GRU needs both biases: ``by_n`` sits inside ``r ⊙ (h @ Wy_n + by_n)``.
Only one-layer, unidirectional modules without projection have one set of
weights; anything else is refused with a ``ValueError`` by the one-cell functions.
Modules with ``num_layers > 1`` or ``bidirectional=True`` (chapter 12) convert to
and from lists of cells, layer ``k`` in ``weight_ih_l{k}`` ... and its backward
direction in ``weight_ih_l{k}_reverse`` ...: :func:`torch_stack_from_cells`,
:func:`cells_from_torch_stack`, :func:`torch_bidirectional_from_cells`,
:func:`cells_from_torch_bidirectional`.

TensorFlow 1.x stores the same functions differently; each difference is a trap:

* ``LSTMCell``: one ``kernel`` [n_inputs + n, 4n] multiplying ``concat([x, h])``
  (rows of ``Wx`` on top of rows of ``Wy``), gates in the order **i, j, f, o**
  (``j`` is PyTorch's ``g``), and ``forget_bias`` (default 1.0) added to ``f``
  at run time, not stored in ``bias``::

      i, j, f, o = split(concat([x, h]) @ kernel + bias, 4)
      c = σ(f + forget_bias) ⊙ c_prev + σ(i) ⊙ tanh(j);   h = σ(o) ⊙ tanh(c)

* ``GRUCell``: the reset gate acts *before* the recurrent product (our
  ``reset_after=False``), the update gate ``u`` keeps the old state where
  PyTorch's ``z`` does (``h = u ⊙ h_prev + (1 - u) ⊙ c``: ``u`` is ``z``), and
  the weights come as a gate kernel (r, u) and a candidate kernel::

      r, u = split(σ(concat([x, h]) @ gate_kernel + gate_bias), 2)
      c = tanh(concat([x, r ⊙ h]) @ candidate_kernel + candidate_bias)

torch is imported only inside the functions that need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from companion import validation as v
from companion.cells.numpy_cells import GRUCell, LSTMCell

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "cells_from_torch_bidirectional",
    "cells_from_torch_stack",
    "gru_from_tf1",
    "lstm_from_tf1",
    "torch_bidirectional_from_cells",
    "torch_gru_from_weights",
    "torch_lstm_from_weights",
    "torch_stack_from_cells",
    "weights_from_torch_gru",
    "weights_from_torch_lstm",
]


def _check_one_layer(module: Any, cls: type, name: str) -> None:
    if not isinstance(module, cls):
        raise TypeError(f"{name} must be a torch.nn.{cls.__name__}; got {type(module).__name__}")
    if module.num_layers != 1 or module.bidirectional or getattr(module, "proj_size", 0):
        raise ValueError(
            f"{name} must have num_layers=1, bidirectional=False and no projection; got "
            f"num_layers={module.num_layers}, bidirectional={module.bidirectional}, "
            f"proj_size={getattr(module, 'proj_size', 0)}"
        )


def _copies(module: Any, name: str) -> list[torch.Tensor]:
    """``Wx``, ``Wy``, ``bias_ih``, ``bias_hh`` of a one-layer module: detached CPU copies."""
    import torch

    Wx = module.weight_ih_l0.detach().cpu().T.clone()
    Wy = module.weight_hh_l0.detach().cpu().T.clone()
    if module.bias:
        biases = [b.detach().cpu().clone() for b in (module.bias_ih_l0, module.bias_hh_l0)]
    else:
        biases = [torch.zeros(Wx.shape[1], dtype=Wx.dtype)] * 2
    parts = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    for part, w in zip(parts, (Wx, Wy, *biases), strict=True):
        v.check_finite(f"{name}.{part}", bool(torch.isfinite(w).all()))
    return [Wx, Wy, *biases]


def weights_from_torch_lstm(lstm: torch.nn.LSTM) -> tuple[torch.Tensor, ...]:
    """``(Wx, Wy, b)`` of a one-layer ``nn.LSTM``, detached CPU copies (dtype kept).

    Shapes: ``Wx`` [n_inputs, 4n], ``Wy`` [n, 4n], ``b = bias_ih + bias_hh`` [4n].
    """
    import torch

    _check_one_layer(lstm, torch.nn.LSTM, "lstm")
    Wx, Wy, bias_ih, bias_hh = _copies(lstm, "lstm")
    return Wx, Wy, bias_ih + bias_hh


def weights_from_torch_gru(gru: torch.nn.GRU) -> tuple[torch.Tensor, ...]:
    """``(Wx, Wy, bx, by)`` of a one-layer ``nn.GRU``, detached CPU copies (dtype kept).

    Shapes: ``Wx`` [n_inputs, 3n], ``Wy`` [n, 3n], ``bx = bias_ih``, ``by = bias_hh`` [3n].
    """
    import torch

    _check_one_layer(gru, torch.nn.GRU, "gru")
    return tuple(_copies(gru, "gru"))


def _module(cls: Any, Wx: Any, Wy: Any, biases: tuple[Any, Any], batch_first: bool) -> Any:
    """A one-layer ``cls`` (``nn.LSTM``/``nn.GRU``) holding the given weights."""
    import torch

    Wx, Wy, bias_ih, bias_hh = (torch.as_tensor(w).detach() for w in (Wx, Wy, *biases))
    module = cls(
        int(Wx.shape[0]),
        int(Wy.shape[0]),
        batch_first=batch_first,
        dtype=Wx.dtype,
        device=Wx.device,
    )
    with torch.no_grad():
        module.weight_ih_l0.copy_(Wx.T)
        module.weight_hh_l0.copy_(Wy.T)
        module.bias_ih_l0.copy_(bias_ih)
        module.bias_hh_l0.copy_(bias_hh)
    return module


def torch_lstm_from_weights(Wx: Any, Wy: Any, b: Any, *, batch_first: bool = True) -> Any:
    """A one-layer ``nn.LSTM`` equal to ``LSTMCell(Wx, Wy, b)``: ``b`` goes to ``bias_ih``.

    The module takes the dtype and device of ``Wx`` (NumPy arrays give a CPU module).
    """
    import torch

    return _module(torch.nn.LSTM, Wx, Wy, (b, np.zeros(np.shape(b))), batch_first)


def torch_gru_from_weights(
    Wx: Any, Wy: Any, bx: Any, by: Any, reset_after: bool, *, batch_first: bool = True
) -> Any:
    """A one-layer ``nn.GRU`` equal to ``GRUCell(Wx, Wy, bx, by)``: ``bias_ih = bx``,
    ``bias_hh = by``.

    Raises
    ------
    ValueError
        ``reset_after=False``: ``nn.GRU`` always applies ``r`` after the recurrent
        product, so TF 1.x's GRU has no ``nn.GRU`` equivalent.
    """
    import torch

    if not reset_after:
        raise ValueError(
            "a GRUCell with reset_after=False (TensorFlow 1.x's GRU: r ⊙ h_prev before the "
            "product with Wy_n) has no torch.nn.GRU equivalent: nn.GRU computes "
            "r ⊙ (h_prev @ Wy_n + by_n), i.e. reset_after=True"
        )
    return _module(torch.nn.GRU, Wx, Wy, (bx, by), batch_first)


def _tf1_array(name: str, value: Any) -> np.ndarray:
    array = np.asarray(value)
    v.check_numeric_kind(name, array.dtype.kind, array.dtype)
    return array


def lstm_from_tf1(kernel: Any, bias: Any, forget_bias: float = 1.0) -> LSTMCell:
    """The :class:`LSTMCell` computing TensorFlow 1.x's ``LSTMCell`` (or ``BasicLSTMCell``).

    Parameters
    ----------
    kernel : [n_inputs + n_neurons, 4 * n_neurons]
        Rows: ``x`` then ``h``; column blocks ``i, j, f, o`` (``j`` is our ``g``).
    bias : [4 * n_neurons]
    forget_bias : float
        What TF adds to ``f`` at run time (``forget_bias=1.0`` by default); it is
        folded into ``b_f`` here.

    Returns
    -------
    LSTMCell with ``Wx = kernel[:n_inputs]``, ``Wy = kernel[n_inputs:]`` and ``b``
    (``b_f = bias_f + forget_bias``), the blocks reordered to ``i, f, g, o``;
    float64 if ``kernel`` or ``bias`` is float64, else float32.
    """
    kernel, bias = _tf1_array("kernel", kernel), _tf1_array("bias", bias)
    n_inputs, n_neurons = v.check_tf1_kernel("kernel", kernel.shape, 4)
    v.check_rank_and_sizes("bias", bias.shape, ("4 * n_neurons",), (4 * n_neurons,))
    if isinstance(forget_bias, bool) or not isinstance(forget_bias, int | float | np.number):
        raise TypeError(f"forget_bias must be a float; got {type(forget_bias).__name__}")
    v.check_finite("forget_bias", bool(np.isfinite(forget_bias)))
    dtype = np.float64 if np.float64 in (kernel.dtype, bias.dtype) else np.float32

    def i_f_g_o(w: np.ndarray) -> np.ndarray:
        i, j, f, o = np.split(w, 4, axis=-1)
        return np.concatenate([i, f, j, o], axis=-1)

    b = bias.astype(np.float64)  # a copy, for the fold
    b[2 * n_neurons : 3 * n_neurons] += forget_bias  # TF's f block is the third
    W = i_f_g_o(kernel)
    return LSTMCell.from_weights(W[:n_inputs], W[n_inputs:], i_f_g_o(b), dtype=dtype)


def gru_from_tf1(
    gate_kernel: Any, gate_bias: Any, candidate_kernel: Any, candidate_bias: Any
) -> GRUCell:
    """The :class:`GRUCell` (``reset_after=False``) computing TensorFlow 1.x's ``GRUCell``.

    Parameters
    ----------
    gate_kernel : [n_inputs + n_neurons, 2 * n_neurons]    column blocks ``r, u``
    gate_bias : [2 * n_neurons]
    candidate_kernel : [n_inputs + n_neurons, n_neurons]
    candidate_bias : [n_neurons]

    Returns
    -------
    GRUCell(reset_after=False) with ``Wx = [gate_kernel_x | candidate_kernel_x]``,
    ``Wy = [gate_kernel_h | candidate_kernel_h]`` (blocks r, z = u, n),
    ``bx = [gate_bias | candidate_bias]`` and ``by = 0``; float64 if any weight is.
    """
    arrays = {
        "gate_kernel": _tf1_array("gate_kernel", gate_kernel),
        "gate_bias": _tf1_array("gate_bias", gate_bias),
        "candidate_kernel": _tf1_array("candidate_kernel", candidate_kernel),
        "candidate_bias": _tf1_array("candidate_bias", candidate_bias),
    }
    n_inputs, n_neurons = v.check_tf1_kernel("gate_kernel", arrays["gate_kernel"].shape, 2)
    rows = n_inputs + n_neurons
    v.check_rank_and_sizes(
        "candidate_kernel",
        arrays["candidate_kernel"].shape,
        ("n_inputs + n_neurons", "n_neurons"),
        (rows, n_neurons),
    )
    v.check_rank_and_sizes(
        "gate_bias", arrays["gate_bias"].shape, ("2 * n_neurons",), (2 * n_neurons,)
    )
    v.check_rank_and_sizes(
        "candidate_bias", arrays["candidate_bias"].shape, ("n_neurons",), (n_neurons,)
    )
    dtype = np.float64 if any(a.dtype == np.float64 for a in arrays.values()) else np.float32
    W = np.concatenate([arrays["gate_kernel"], arrays["candidate_kernel"]], axis=1)
    bx = np.concatenate([arrays["gate_bias"], arrays["candidate_bias"]])
    return GRUCell.from_weights(
        W[:n_inputs], W[n_inputs:], bx, np.zeros_like(bx), reset_after=False, dtype=dtype
    )


# ----------------------------------------------------------- several layers, two directions
# Chapter 12 (深层 RNN、双向 RNN). ``nn.RNN``/``LSTM``/``GRU`` with ``num_layers = L`` hold
# layer k's weights as ``weight_ih_l{k}`` ... (the backward direction: ``..._l{k}_reverse``),
# each converted exactly like the one-layer module above. One module has one kind of cell,
# one width and one nonlinearity for every layer; only layer 0's ``n_inputs`` may differ.

_KINDS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def _kind_of(name: str, cell: Any) -> str:
    """``"rnn"``, ``"lstm"`` or ``"gru"`` for a BasicRNNCell, LSTMCell or GRUCell of either
    backend (anything else, a wrapper included, is refused)."""
    from companion import numpy_rnn, torch_rnn

    for kind, classes in (
        ("rnn", (numpy_rnn.BasicRNNCell, torch_rnn.BasicRNNCell)),
        ("lstm", (LSTMCell, torch_rnn.LSTMCell)),
        ("gru", (GRUCell, torch_rnn.GRUCell)),
    ):
        if isinstance(cell, classes):
            if kind == "gru" and not cell.reset_after:
                raise ValueError(
                    f"{name} is a GRUCell with reset_after=False (TensorFlow 1.x's GRU), which "
                    "no torch.nn.GRU computes: nn.GRU applies r after the product with Wy_n"
                )
            return kind
    raise TypeError(
        f"{name} must be a BasicRNNCell, LSTMCell or GRUCell (NumPy or torch; unwrap a "
        f"DropoutWrapper first); got {type(cell).__name__}"
    )


def _torch_biases(kind: str, cell: Any) -> tuple[Any, Any]:
    """``(bias_ih, bias_hh)`` for a cell: the GRU keeps both, the others put ``b`` in bias_ih."""
    if kind == "gru":
        return cell.bx, cell.by
    return cell.b, cell.b * 0


def _torch_module_from_layers(
    layers: list[tuple[str, str, Any]], num_layers: int, bidirectional: bool, batch_first: bool
) -> Any:
    """One ``nn.*`` module holding ``layers``: ``(argument name, parameter suffix, cell)``."""
    import torch

    kinds = [_kind_of(name, cell) for name, _, cell in layers]
    first_name, _, first = layers[0]
    for (name, _, cell), kind in zip(layers, kinds, strict=True):
        if kind != kinds[0]:
            raise ValueError(
                f"{name} must be the same kind of cell as {first_name} ({kinds[0]}): one "
                f"torch.nn module has one kind for every layer; got {kind}"
            )
        if cell.n_neurons != first.n_neurons:
            raise ValueError(
                f"{name} must have n_neurons = {first.n_neurons} like {first_name}: one torch.nn "
                f"module has one hidden size; got n_neurons = {cell.n_neurons}"
            )
        if kinds[0] == "rnn" and cell.nonlinearity != first.nonlinearity:
            raise ValueError(
                f"{name} must have nonlinearity {first.nonlinearity!r} like {first_name}: one "
                f"torch.nn.RNN has one nonlinearity; got {cell.nonlinearity!r}"
            )
        if cell.dtype != first.dtype:
            raise ValueError(
                f"{name} must have the dtype of {first_name} ({first.dtype}); got {cell.dtype}"
            )
    options = {"nonlinearity": first.nonlinearity} if kinds[0] == "rnn" else {}
    weights = [
        [torch.as_tensor(w).detach() for w in (cell.Wx, cell.Wy, *_torch_biases(kinds[0], cell))]
        for _, _, cell in layers
    ]
    module = getattr(torch.nn, _KINDS[kinds[0]])(
        first.n_inputs,
        first.n_neurons,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
        dtype=weights[0][0].dtype,
        device=weights[0][0].device,
        **options,
    )
    with torch.no_grad():
        for (_, suffix, _), (Wx, Wy, bias_ih, bias_hh) in zip(layers, weights, strict=True):
            getattr(module, f"weight_ih_{suffix}").copy_(Wx.T)
            getattr(module, f"weight_hh_{suffix}").copy_(Wy.T)
            getattr(module, f"bias_ih_{suffix}").copy_(bias_ih)
            getattr(module, f"bias_hh_{suffix}").copy_(bias_hh)
    return module


def torch_stack_from_cells(cells: Any, *, batch_first: bool = True) -> Any:
    """One ``nn.RNN``/``nn.LSTM``/``nn.GRU`` with ``num_layers = len(cells)`` equal to
    ``MultiRNNCell(cells)``.

    Layer ``k``: ``weight_ih_l{k} = Wx.T``, ``weight_hh_l{k} = Wy.T``; biases as for one
    layer (LSTM and basic cell: ``bias_ih = b``, ``bias_hh = 0``; GRU: ``bx``, ``by``).

    Parameters
    ----------
    cells : list of BasicRNNCell, LSTMCell or GRUCell (NumPy or torch), bottom first
        One kind, one ``n_neurons``, one dtype (basic cells: one nonlinearity); GRU
        cells with ``reset_after=True``.
    batch_first : bool

    Returns
    -------
    the module, in the cells' dtype (and device, for torch cells); ``dropout=0``.
    """
    if not isinstance(cells, list | tuple):
        raise TypeError(f"cells must be a list (or tuple) of cells; got {type(cells).__name__}")
    if not cells:
        raise ValueError("cells must hold at least one cell (one per layer); got an empty list")
    layers = [(f"cells[{k}]", f"l{k}", cell) for k, cell in enumerate(cells)]
    return _torch_module_from_layers(layers, len(cells), False, batch_first)


def torch_bidirectional_from_cells(cell_fw: Any, cell_bw: Any, *, batch_first: bool = True) -> Any:
    """One ``nn.RNN``/``LSTM``/``GRU(bidirectional=True)`` (one layer) equal to
    ``bidirectional_dynamic_rnn(cell_fw, cell_bw, ...)`` with its outputs concatenated.

    ``cell_fw`` → ``weight_ih_l0`` ...; ``cell_bw`` → ``weight_ih_l0_reverse`` ...; both
    cells of one kind, one width and one ``n_inputs`` (NumPy or torch).
    """
    _kind_of("cell_fw", cell_fw)  # a cell of the course (TypeError otherwise)
    _kind_of("cell_bw", cell_bw)
    if cell_bw.n_inputs != cell_fw.n_inputs:
        raise ValueError(
            f"cell_bw must have n_inputs = {cell_fw.n_inputs} like cell_fw (both read X); "
            f"got n_inputs = {cell_bw.n_inputs}"
        )
    layers = [("cell_fw", "l0", cell_fw), ("cell_bw", "l0_reverse", cell_bw)]
    return _torch_module_from_layers(layers, 1, True, batch_first)


def _cell_from_torch_layer(module: Any, suffix: str, backend: str) -> Any:
    """One layer (``suffix`` ``"l0"``, ``"l1_reverse"`` ...) of ``module`` as a cell of
    ``backend`` (``"numpy"``: CPU arrays; ``"torch"``: dtype and device kept)."""
    import torch

    from companion import numpy_rnn, torch_rnn

    rnn = numpy_rnn if v.check_backend(backend, ("numpy", "torch")) == "numpy" else torch_rnn
    Wx = getattr(module, f"weight_ih_{suffix}").detach().T.clone()
    Wy = getattr(module, f"weight_hh_{suffix}").detach().T.clone()
    if module.bias:
        b_ih, b_hh = (
            getattr(module, f"{b}_{suffix}").detach().clone() for b in ("bias_ih", "bias_hh")
        )
    else:  # bias=False: both biases are zero, as for one layer
        b_ih = b_hh = torch.zeros(Wx.shape[1], dtype=Wx.dtype, device=Wx.device)
    for part, w in zip(
        ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), (Wx, Wy, b_ih, b_hh), strict=True
    ):
        v.check_finite(f"module.{part}_{suffix}", bool(torch.isfinite(w).all()))
    if backend == "numpy":
        Wx, Wy, b_ih, b_hh = (w.cpu().numpy() for w in (Wx, Wy, b_ih, b_hh))
    if isinstance(module, torch.nn.GRU):
        return rnn.GRUCell.from_weights(Wx, Wy, b_ih, b_hh, dtype=_dtype_arg(Wx, backend))
    if isinstance(module, torch.nn.LSTM):
        return rnn.LSTMCell.from_weights(Wx, Wy, b_ih + b_hh, dtype=_dtype_arg(Wx, backend))
    return rnn.BasicRNNCell.from_weights(
        Wx, Wy, b_ih + b_hh, nonlinearity=module.nonlinearity, dtype=_dtype_arg(Wx, backend)
    )


def _dtype_arg(W: Any, backend: str) -> Any:
    """The dtype of a weight as the ``dtype=`` argument of ``backend``'s cells."""
    return W.dtype.type if backend == "numpy" else W.dtype


def _check_torch_rnn_module(module: Any, bidirectional: bool) -> None:
    import torch

    if not isinstance(module, torch.nn.RNN | torch.nn.LSTM | torch.nn.GRU):
        raise TypeError(f"module must be a torch.nn.RNN, LSTM or GRU; got {type(module).__name__}")
    if getattr(module, "proj_size", 0):
        raise ValueError(f"module must have no projection; got proj_size={module.proj_size}")
    if module.bidirectional != bidirectional:
        raise ValueError(
            f"module must have bidirectional={bidirectional}; got {module.bidirectional}"
            + (" (use cells_from_torch_bidirectional)" if module.bidirectional else "")
        )


def cells_from_torch_stack(module: Any, backend: str = "numpy") -> list:
    """The layers of a unidirectional ``nn.RNN``/``LSTM``/``GRU`` as cells, bottom first.

    ``MultiRNNCell(cells_from_torch_stack(m))`` computes what ``m`` computes in
    evaluation mode: ``m.dropout`` is not a weight and is not copied (wrap the layers
    in ``DropoutWrapper`` to train with it). ``backend``: ``"numpy"`` or ``"torch"``.
    """
    _check_torch_rnn_module(module, bidirectional=False)
    return [_cell_from_torch_layer(module, f"l{k}", backend) for k in range(module.num_layers)]


def cells_from_torch_bidirectional(module: Any, backend: str = "numpy") -> tuple[Any, Any]:
    """``(cell_fw, cell_bw)`` of a one-layer ``nn.*(bidirectional=True)``."""
    _check_torch_rnn_module(module, bidirectional=True)
    if module.num_layers != 1:
        raise ValueError(
            "module must have num_layers=1: layer 1 of a bidirectional stack reads both "
            f"directions' outputs, which no (cell_fw, cell_bw) pair holds; got {module.num_layers}"
        )
    return _cell_from_torch_layer(module, "l0", backend), _cell_from_torch_layer(
        module, "l0_reverse", backend
    )
