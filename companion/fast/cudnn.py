"""The GPU path of :func:`companion.torch_rnn.dynamic_rnn`: PyTorch's fused RNN kernel.

Taught in the appendix 性能 (performance); the loop it replaces is chapter 6's.

On a GPU the course's loop launches a few small kernels per time step
(``addmm``, ``tanh``), each costing microseconds of launch overhead while the
arithmetic of a step takes less. NVIDIA's cuDNN runs the whole recurrence in
one library call (appendix 性能). ``torch.nn.RNN`` uses it; so can
``dynamic_rnn``, when the user asks for it::

    outputs, state = dynamic_rnn(cell, X, sequence_length=lengths, backend="cudnn")

``backend`` is one of:

* ``"loop"`` (default) -- the packed loop with hand-written BPTT of
  :mod:`companion.fast.torch_packed`, on any device;
* ``"cudnn"`` -- the fused kernel; the cell must be on a CUDA device with cuDNN;
* ``"auto"`` -- ``"cudnn"`` where that is possible, ``"loop"`` elsewhere;
* ``"reference"`` -- the readable loop of :func:`companion.torch_rnn.dynamic_rnn`,
  differentiated by autograd.

The semantics do not change: the cell's weights are handed to the kernel in
``torch.nn.RNN``'s layout (``weight_ih = Wx.T``, ``weight_hh = Wy.T``,
``bias_ih = b``, ``bias_hh = 0``), a ragged batch goes in packed exactly as
``pack_padded_sequence`` would pack it (the packing of :mod:`companion.fast.packing`
*is* that layout), and the padded outputs and the final state are rebuilt
around the kernel by the same code as for the loop -- zeros past each end stay
exact zeros, and a length of 0 keeps the initial state. Gradients reach ``X``,
the initial state and ``Wx``, ``Wy``, ``b`` through cuDNN's own backward.
Results equal the loop's up to float rounding (a different summation order),
not bit for bit.

The kernel entry point is ``torch._VF.rnn_tanh`` / ``rnn_relu``, the function
``torch.nn.RNN.forward`` itself calls; on a CPU it runs PyTorch's native
implementation, which is how the tests check this module without a GPU.
"""

from __future__ import annotations

import warnings

import torch

from companion import validation as v

__all__ = ["BACKENDS", "cudnn_usable", "fused_recurrence", "resolve_backend"]

BACKENDS = v.TORCH_BACKENDS

# cuDNN wants its weights in one flat buffer; ours are the cell's own parameters,
# so every call copies them into one (``nn.RNN`` keeps its weights there for good)
# and PyTorch warns about it. The copy is deliberate -- the cell stays the owner of
# Wx, Wy, b -- and the warning is noise. It costs a few small kernels per call:
# noticeable for small layers, negligible for large ones (appendix 性能).
_NOT_FLAT = "RNN module weights are not part of single contiguous chunk of memory"


def cudnn_usable(device: torch.device) -> bool:
    """Whether cuDNN can run on ``device``: a CUDA device and a build with cuDNN."""
    return device.type == "cuda" and torch.backends.cudnn.is_available()


def resolve_backend(backend: str, device: torch.device) -> str:
    """``"reference"``, ``"loop"`` or ``"cudnn"``: what ``backend`` means on ``device``.

    Raises
    ------
    ValueError
        ``backend="cudnn"`` for a cell that is not on a CUDA device with cuDNN.
    """
    backend = v.check_backend(backend, BACKENDS)
    if backend == "auto":
        return "cudnn" if cudnn_usable(device) else "loop"
    if backend == "cudnn" and not cudnn_usable(device):
        raise ValueError(
            f"backend='cudnn' needs the cell on a CUDA device with cuDNN; the cell is on "
            f"{device} (cuDNN available: {torch.backends.cudnn.is_available()}). "
            "Move the cell with cell.to('cuda'), or use backend='auto' or 'loop'."
        )
    return backend


def fused_recurrence(
    X_packed: torch.Tensor,
    h0: torch.Tensor,
    Wx: torch.Tensor,
    Wy: torch.Tensor,
    b: torch.Tensor,
    sizes: list[int],
    nonlinearity: str,
) -> torch.Tensor:
    """``h_t = phi(x_t @ Wx + b + h_{t-1} @ Wy)`` over packed rows, in one fused call.

    Same contract as :class:`companion.fast.torch_packed.Recurrence` without its
    row of zeros.

    Parameters
    ----------
    X_packed : [sum(sizes), n_inputs]
        ``sizes[0]`` rows of step 0, then ``sizes[1]`` rows of step 1, ...
    h0 : [batch, n_neurons], the sorted initial state
    Wx : [n_inputs, n_neurons]
    Wy : [n_neurons, n_neurons]
    b : [n_neurons]
    sizes : list of int, non-increasing: running instances per step
    nonlinearity : {"tanh", "relu"}

    Returns
    -------
    H : [sum(sizes), n_neurons], ``h_t`` of every packed row (differentiable)
    """
    n_neurons = Wy.shape[0]
    if not sizes:
        return X_packed.new_zeros(0, n_neurons)
    rnn = torch._VF.rnn_tanh if nonlinearity == "tanh" else torch._VF.rnn_relu
    # nn.RNN's layout (bias_hh = 0); cuDNN wants each weight contiguous (the copy is
    # differentiable, so gradients still reach the cell's parameters).
    weights = [Wx.T.contiguous(), Wy.T.contiguous(), b, torch.zeros_like(b)]
    # Arguments after the weights: has_biases, num_layers, dropout, train, bidirectional.
    # train=True keeps what cuDNN's backward needs; without autograd it is not needed.
    options = (True, 1, 0.0, torch.is_grad_enabled(), False)
    batch = sizes[0]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_NOT_FLAT)
        if all(k == len(h0) for k in sizes):
            # Every instance runs every step: the padded (time-major) entry point.
            X_tm = X_packed.view(len(sizes), batch, -1)
            out, _ = rnn(X_tm, h0[None], weights, *options, False)  # batch_first=False
            return out.reshape(-1, n_neurons)
        # A ragged batch: the packed entry point, exactly PackedSequence's layout.
        batch_sizes = torch.tensor(sizes, dtype=torch.int64)  # on the CPU, as PyTorch wants
        out, _ = rnn(X_packed, batch_sizes, h0[:batch][None], weights, *options)
        return out
