"""How big is an unrolled RNN's graph?  Counting the nodes of ``torch.fx`` traces.

Taught in chapter 5 (静态展开) and revisited in chapter 6 (动态展开).

Static unrolling writes one copy of the cell's computation per time step. For
the basic cell, step ``t`` is::

    h_t = tanh(x_t @ Wx + h_{t-1} @ Wy + b)

that is, six graph nodes: take ``x_t`` out of the input list, two matrix
products, two additions and the ``tanh``. A graph of ``n_steps`` steps therefore
has ``6 * n_steps`` step nodes plus a constant number of others (the two
inputs, the three weights, the output): its size grows linearly with
``n_steps``. This module makes that visible:

* :class:`UnrolledRNN` -- a ``torch.nn.Module`` whose ``forward`` unrolls a
  :class:`companion.torch_rnn.BasicRNNCell` over a fixed number of steps with a
  Python ``for`` loop;
* :func:`trace_unrolled` -- its ``torch.fx.symbolic_trace``; the loop disappears
  from the trace, leaving ``n_steps`` copies of the step;
* :func:`op_counts` and :func:`fx_node_count` -- the size of a trace, by kind
  of node and in total;
* :func:`trace_by_running` -- a trace recorded by *running* a function on
  example tensors (``make_fx``), which works for the real
  :func:`companion.torch_rnn.static_rnn` and ``dynamic_rnn``;
* :func:`autograd_node_count` -- the size of the other graph PyTorch builds,
  the record of the forward pass that ``backward()`` walks (chapter 6).

Why :class:`UnrolledRNN` writes the cell's equation itself instead of calling
the cell: ``symbolic_trace`` runs ``forward`` on *proxies* (placeholders that
only record what is done to them). ``BasicRNNCell.forward`` first validates and
converts its arguments (``np.asarray``, shape checks), which a proxy cannot
support, so tracing the real cell raises. The module therefore reads the
cell's parameters ``Wx``, ``Wy``, ``b`` and applies ``cell.phi``; its outputs
equal ``static_rnn``'s (tested), and it shares the cell's parameters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.fx

from companion import validation as v
from companion.torch_rnn import BasicRNNCell

__all__ = [
    "UnrolledRNN",
    "autograd_node_count",
    "fx_node_count",
    "op_counts",
    "trace_by_running",
    "trace_unrolled",
]


class UnrolledRNN(torch.nn.Module):
    """``cell`` statically unrolled over ``n_steps`` steps: one copy of the step per step.

    ``forward(inputs, h0)`` computes, for ``t = 0 .. n_steps - 1``::

        h_t = phi(inputs[t] @ Wx + h_{t-1} @ Wy + b),   h_{-1} = h0

    with the parameters of ``cell`` (shared, not copied).

    Parameters
    ----------
    cell : companion.torch_rnn.BasicRNNCell
    n_steps : int >= 1
        Fixed when the module is built: a trace has one copy per step.

    Inputs
    ------
    inputs : list of n_steps tensors [batch, n_inputs]
    h0 : [batch, n_neurons]

    Outputs
    -------
    outputs : list of n_steps tensors [batch, n_neurons]
    state : [batch, n_neurons] (the last output)
    """

    def __init__(self, cell: BasicRNNCell, n_steps: int) -> None:
        super().__init__()
        v.check_cell(cell, BasicRNNCell)
        self.n_steps = v.check_positive_int("n_steps", n_steps)
        self.cell = cell

    def forward(
        self, inputs: Sequence[torch.Tensor], h0: torch.Tensor
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        cell = self.cell
        h = h0
        outputs = []
        for t in range(self.n_steps):  # a Python loop: the trace keeps n_steps copies
            h = cell.phi(inputs[t] @ cell.Wx + h @ cell.Wy + cell.b)
            outputs.append(h)
        return outputs, h


def trace_unrolled(cell: BasicRNNCell, n_steps: int) -> torch.fx.GraphModule:
    """``torch.fx.symbolic_trace(UnrolledRNN(cell, n_steps))``.

    Returns
    -------
    torch.fx.GraphModule
        Callable like :class:`UnrolledRNN` (``gm(inputs, h0)``); ``gm.graph``
        holds ``6 * n_steps + 6`` nodes (see :func:`fx_node_count`), ``gm.code``
        the generated Python: the loop written out step by step.
    """
    return torch.fx.symbolic_trace(UnrolledRNN(cell, n_steps))


def _node_name(node: torch.fx.Node) -> str:
    """``matmul``, ``add``, ``tanh``, ``getitem`` ... for calls; the node kind otherwise."""
    if node.op in ("call_function", "call_method"):
        target = node.target
        name = target if isinstance(target, str) else getattr(target, "__name__", str(target))
        # make_fx targets are ATen overloads such as ``addmm.default``: keep ``addmm``.
        return name.split(".")[0]
    return node.op


def op_counts(graph_module: torch.fx.GraphModule) -> dict[str, int]:
    """Nodes of a trace counted by what they do.

    Calls are named after the function (``matmul``, ``add``, ``tanh``,
    ``getitem`` for ``inputs[t]``; ATen names such as ``addmm`` for
    :func:`trace_by_running`); other nodes by their kind (``placeholder`` for
    the inputs, ``get_attr`` for a parameter, ``output``).

    Returns
    -------
    dict
        ``{name: count}``, names sorted; the counts add up to
        ``len(graph_module.graph.nodes)``.
    """
    if not isinstance(graph_module, torch.fx.GraphModule):
        raise TypeError(
            f"graph_module must be a torch.fx.GraphModule; got {type(graph_module).__name__}"
        )
    counts = Counter(_node_name(node) for node in graph_module.graph.nodes)
    return dict(sorted(counts.items()))


def fx_node_count(n_steps: int, n_inputs: int = 3, n_neurons: int = 5) -> int:
    """Number of nodes in the ``torch.fx`` trace of an ``n_steps``-step static unrolling.

    Builds a ``BasicRNNCell(n_inputs, n_neurons, seed=0)`` (the weights do not
    change the graph), traces :class:`UnrolledRNN` and counts the nodes:
    ``6 * n_steps + 6`` whatever the layer sizes -- the graph grows with the
    number of steps, not with the size of the tensors.

    Parameters
    ----------
    n_steps, n_inputs, n_neurons : int >= 1

    Returns
    -------
    int
    """
    n_steps = v.check_positive_int("n_steps", n_steps)
    n_inputs = v.check_positive_int("n_inputs", n_inputs)
    n_neurons = v.check_positive_int("n_neurons", n_neurons)
    cell = BasicRNNCell(n_inputs, n_neurons, seed=0)
    return len(trace_unrolled(cell, n_steps).graph.nodes)


def trace_by_running(fn: Callable[..., Any], *example_args: Any) -> torch.fx.GraphModule:
    """Record the ATen operations that ``fn(*example_args)`` runs, as a ``torch.fx`` graph.

    Unlike :func:`torch.fx.symbolic_trace`, which feeds proxies to the code,
    this runs ``fn`` on real example tensors
    (``torch.fx.experimental.proxy_tensor.make_fx``) under ``torch.no_grad()``
    (the forward computation only), so argument checks and NumPy conversions
    inside ``fn`` work: it traces the real
    :func:`companion.torch_rnn.static_rnn` and ``dynamic_rnn``. A Python loop
    is recorded once per iteration that ran -- in PyTorch, dynamic unrolling is
    just a loop that runs, and every trace of it is unrolled too (chapter 6).

    Parameters
    ----------
    fn : callable taking tensors and returning tensors (or tuples/lists of them)
    example_args : the tensors to run it on (their shapes fix ``n_steps``)

    Returns
    -------
    torch.fx.GraphModule
        Its nodes are ATen operations (``mm``, ``addmm``, ``tanh`` ...); the
        weights appear as ``get_attr`` constants.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    from torch.fx.experimental.proxy_tensor import make_fx

    def forward_only(*args: Any) -> Any:
        with torch.no_grad():
            return fn(*args)

    return make_fx(forward_only)(*example_args)


def autograd_node_count(output: torch.Tensor) -> int:
    """Number of backward nodes autograd recorded to compute ``output``.

    Follows ``output.grad_fn`` and its ``next_functions`` down to the leaves
    (``AccumulateGrad`` nodes, one per parameter or input that needs a
    gradient, are counted too). A Python loop of autograd-tracked operations
    adds a few nodes per step; an ``autograd.Function`` that runs the whole loop
    (as :func:`companion.torch_rnn.dynamic_rnn` does, chapter 6) is one node
    whatever the number of steps.

    Parameters
    ----------
    output : a tensor that requires grad

    Returns
    -------
    int
    """
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"output must be a torch.Tensor; got {type(output).__name__}")
    if output.grad_fn is None:
        raise ValueError(
            "output must be the result of operations that autograd recorded "
            "(output.grad_fn is None: no input needed a gradient, or torch.no_grad was on)"
        )
    seen: set[Any] = set()
    stack = [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(child for child, _ in node.next_functions)
    return len(seen)
