"""Checkers for the exercises of chapter 5 (静态展开).

``static_rnn`` takes a Python list of per-step inputs and returns a list of
per-step outputs. Going between one array and such a list:

* :func:`check_unstack` -- ``fn(X) -> inputs``: ``X`` [batch, n_steps, n_inputs]
  to a list of ``n_steps`` arrays [batch, n_inputs], ``inputs[t] = X[:, t]``
  (TensorFlow: ``tf.unstack(tf.transpose(X, [1, 0, 2]))``);
* :func:`check_stack` -- ``fn(outputs) -> Y``: a list of ``n_steps`` arrays
  [batch, n_neurons] to one array [batch, n_steps, n_neurons],
  ``Y[:, t] = outputs[t]`` (TensorFlow: ``tf.transpose(tf.stack(outputs), [1, 0, 2])``).

The reader's function may use NumPy (``backend="numpy"``, the default: it gets
NumPy arrays) or PyTorch (``backend="torch"``: it gets tensors) and may return
a list or a tuple (``torch.unbind`` returns a tuple). Typical mistakes are named:
splitting along the batch axis, keeping a singleton time axis, ``reshape``
where a transpose is needed, forgetting to move the time axis back.

The cost of static unrolling, predicted by a formula and checked against a
measurement (exercise 3):

* :func:`check_node_count` -- ``fn(n_steps, n_inputs, n_neurons) -> int``: the
  number of nodes of the ``torch.fx`` trace, measured by
  :func:`companion.graphs.fx_node_count`;
* :func:`check_saved_bytes` -- ``fn(batch, n_steps, n_inputs, n_neurons) -> int``:
  the bytes that ``torch_rnn.static_rnn`` keeps for the backward pass (float32),
  measured with :func:`companion.memory.saved_tensor_log`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

from companion.exercises.feedback import (
    CheckResult,
    Mistake,
    _as_numpy,
    _fmt_shape,
    check_formula,
    run_checks,
)

__all__ = ["check_node_count", "check_saved_bytes", "check_stack", "check_unstack"]

_BACKENDS = ("numpy", "torch")


def _check_backend(backend: Any) -> str:
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be 'numpy' or 'torch'; got {backend!r}")
    return backend


def _convert(value: Any, backend: str) -> Any:
    """A case's NumPy data in the reader's backend (lists stay lists)."""
    if backend == "numpy":
        return value
    import torch

    if isinstance(value, list):
        return [torch.from_numpy(np.ascontiguousarray(v)) for v in value]
    return torch.from_numpy(np.ascontiguousarray(value))


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) or hasattr(value, "detach")


def _list_problem(result: Any, n_items: int, item_shape: tuple[int, ...]) -> str | None:
    """Why ``result`` is not a list of ``n_items`` arrays of one shape (None if it is)."""
    if _is_array(result):
        return (
            f"应返回一个 Python 列表（每个时间步一个数组），得到的却是一个形状为 "
            f"{_fmt_shape(tuple(result.shape))} 的数组。把它按时间步拆开：list(...) 或列表推导式。"
        )
    if not isinstance(result, list | tuple):
        return f"应返回一个 Python 列表（每个时间步一个数组），得到的是 {type(result).__name__}。"
    shapes = []
    for t, item in enumerate(result):
        try:
            shapes.append(_as_numpy(item).shape)
        except (TypeError, ValueError):
            return f"列表的第 {t} 个元素应是数组，得到的是 {type(item).__name__}。"
    if len(set(shapes)) > 1:
        return "列表里的数组形状不一致：" + "、".join(_fmt_shape(s) for s in shapes[:4]) + "……"
    if len(result) != n_items and shapes and shapes[0] == item_shape:
        return f"列表应有 n_steps = {n_items} 个元素，得到 {len(result)} 个。"
    return None


def _stacked(result: Any) -> np.ndarray:
    """A list of per-step arrays as one array [n_items, ...] (for comparison)."""
    if not result:
        return np.zeros((0,))
    return np.stack([_as_numpy(item) for item in result])


# --------------------------------------------------------------------------
# Unstack: [batch, n_steps, n_inputs] -> list of n_steps [batch, n_inputs]
# --------------------------------------------------------------------------


def _unstack_cases() -> list[dict[str, Any]]:
    """Inputs to try. The first is the chapter's example; the third has
    ``batch == n_steps`` so that splitting along the wrong axis keeps the shape."""
    rng = np.random.default_rng(505)
    chapter = np.array(
        [
            [[0, 1, 2], [9, 8, 7]],
            [[3, 4, 5], [0, 0, 0]],
            [[6, 7, 8], [6, 5, 4]],
            [[9, 0, 1], [3, 2, 1]],
        ],
        dtype=np.float64,
    )
    return [
        {"X": chapter},
        {"X": rng.normal(size=(3, 5, 2))},
        {"X": rng.normal(size=(4, 4, 3))},
        {"X": rng.normal(size=(2, 1, 4))},
    ]


def _unstack_reference(X: np.ndarray) -> np.ndarray:
    return np.stack([X[:, t] for t in range(X.shape[1])])


_UNSTACK_MISTAKES = [
    Mistake(
        "沿批量轴（第 0 轴）拆分了：列表里每个元素是一个实例 [n_steps, n_inputs]",
        lambda X: np.stack(list(X)),
        "static_rnn 需要每个时间步一个数组：inputs[t] = X[:, t]，沿第 1 轴（时间轴）拆分，"
        "例如 [X[:, t] for t in range(X.shape[1])] 或 list(np.moveaxis(X, 1, 0))。",
    ),
    Mistake(
        "保留了长度为 1 的时间轴：每个元素是 [batch, 1, n_inputs]",
        lambda X: np.stack([X[:, t : t + 1] for t in range(X.shape[1])]),
        "X[:, t:t+1]（或 np.split(X, n_steps, axis=1)）保留了时间轴；"
        "用整数下标 X[:, t] 去掉它，或对每个元素再 squeeze(axis=1)。",
    ),
    Mistake(
        "用 reshape 代替了转置：形状对，数值错",
        lambda X: X.reshape(X.shape[1], X.shape[0], X.shape[2]),
        "reshape 只按内存顺序重新划分，不会交换轴：inputs[0] 里混进了别的时间步。"
        "先交换前两个轴（np.moveaxis(X, 1, 0)、X.transpose(1, 0, 2) "
        "或 X.permute(1, 0, 2)）再拆分。",
    ),
    Mistake(
        "沿特征轴（第 2 轴）拆分了：列表里每个元素是 [batch, n_steps]",
        lambda X: np.stack([X[:, :, i] for i in range(X.shape[2])]),
        "要拆的是时间轴（第 1 轴），不是特征轴。",
    ),
]


def check_unstack(fn: Callable[..., Any], backend: str = "numpy") -> CheckResult:
    """Check ``fn(X) -> inputs``: one array to a list of per-step arrays.

    Parameters
    ----------
    fn : callable
        Takes ``X`` [batch, n_steps, n_inputs] and returns a list (or tuple)
        of ``n_steps`` arrays [batch, n_inputs], ``inputs[t] = X[:, t]`` --
        what :func:`companion.numpy_rnn.static_rnn` takes.
    backend : {"numpy", "torch"}
        What ``fn`` receives: NumPy arrays or torch tensors (float64).

    Returns
    -------
    CheckResult
        Passed, or a Chinese message: not a list, the wrong number of items,
        or a named mistake (batch axis, singleton time axis, reshape instead
        of a transpose, feature axis).
    """
    backend = _check_backend(backend)
    title = "拆分：[batch, n_steps, n_inputs] → 每个时间步一个 [batch, n_inputs]"
    cases = _unstack_cases()
    if not callable(fn):
        return CheckResult(title, False, [f"请传入一个函数，而不是 {type(fn).__name__}。"])
    for number, case in enumerate(cases, start=1):
        X = case["X"]
        try:
            result = fn(_convert(X, backend))
        except Exception:  # reported with its traceback line by run_checks below
            break
        problem = _list_problem(result, X.shape[1], (X.shape[0], X.shape[2]))
        if problem is not None:
            return CheckResult(title, False, [f"第 {number} 个测试用例：{problem}"])
    return run_checks(
        title,
        lambda X: _stacked(fn(_convert(X, backend))),
        reference=_unstack_reference,
        cases=cases,
        mistakes=_UNSTACK_MISTAKES,
        output_names=("拆出的列表（按时间步叠起来看）",),
        axes=(("时间步", "实例", "输入特征"),),
    )


# --------------------------------------------------------------------------
# Stack: list of n_steps [batch, n_neurons] -> [batch, n_steps, n_neurons]
# --------------------------------------------------------------------------


def _stack_cases() -> list[dict[str, Any]]:
    """Per-step outputs to try; the third case has ``batch == n_steps``."""
    rng = np.random.default_rng(506)
    cases = []
    for batch, n_steps, n_neurons in ((4, 2, 5), (3, 6, 2), (4, 4, 3), (2, 1, 3)):
        outputs = [np.tanh(rng.normal(size=(batch, n_neurons))) for _ in range(n_steps)]
        cases.append({"outputs": outputs})
    return cases


def _arrays(outputs: list[Any]) -> list[np.ndarray]:
    return [_as_numpy(o) for o in outputs]


def _stack_reference(outputs: list[Any]) -> np.ndarray:
    return np.stack(_arrays(outputs), axis=1)


def _time_major(outputs: list[Any]) -> np.ndarray:
    return np.stack(_arrays(outputs))


_STACK_MISTAKES = [
    Mistake(
        "叠起来之后没有把时间轴换回第 1 轴：结果是时间优先的 [n_steps, batch, n_neurons]",
        _time_major,
        "np.stack(outputs) / torch.stack(outputs) 把新轴放在最前面；"
        "用 np.stack(outputs, axis=1)（torch.stack(outputs, dim=1)），或叠起来后再交换前两个轴。",
    ),
    Mistake(
        "用 reshape 代替了转置：形状对，数值错",
        lambda outputs: _time_major(outputs).reshape(
            outputs[0].shape[0], len(outputs), outputs[0].shape[1]
        ),
        "reshape 不交换轴，只按内存顺序重新划分：Y[0] 里混进了别的实例。"
        "交换轴要用 transpose / moveaxis / permute，或直接 stack(..., axis=1)。",
    ),
    Mistake(
        "沿神经元轴拼接了：结果是 [batch, n_steps * n_neurons]",
        lambda outputs: np.concatenate(_arrays(outputs), axis=1),
        "concatenate 沿已有的轴拼接，不会新增时间轴；要新增一个轴，用 stack。",
    ),
    Mistake(
        "沿批量轴拼接了：结果是 [n_steps * batch, n_neurons]",
        lambda outputs: np.concatenate(_arrays(outputs), axis=0),
        "concatenate 沿已有的轴拼接，不会新增时间轴；用 np.stack(outputs, axis=1)。",
    ),
]


def check_stack(fn: Callable[..., Any], backend: str = "numpy") -> CheckResult:
    """Check ``fn(outputs) -> Y``: a list of per-step outputs to one batch-major array.

    Parameters
    ----------
    fn : callable
        Takes ``outputs``, a list of ``n_steps`` arrays [batch, n_neurons] (what
        ``static_rnn`` returns), and returns ``Y`` [batch, n_steps, n_neurons]
        with ``Y[:, t] = outputs[t]``.
    backend : {"numpy", "torch"}
        What ``fn`` receives: NumPy arrays or torch tensors (float64).

    Returns
    -------
    CheckResult
        Passed, or a Chinese message naming the mistake (time-major result,
        reshape instead of a transpose, concatenation instead of stacking).
    """
    backend = _check_backend(backend)
    title = "合并：每个时间步一个 [batch, n_neurons] → [batch, n_steps, n_neurons]"
    if not callable(fn):
        return CheckResult(title, False, [f"请传入一个函数，而不是 {type(fn).__name__}。"])
    return run_checks(
        title,
        lambda outputs: fn(outputs),  # positional: the reader may name the argument freely
        reference=_stack_reference,
        cases=[{"outputs": _convert(c["outputs"], backend)} for c in _stack_cases()],
        mistakes=_STACK_MISTAKES,
        output_names=("Y",),
        axes=(("实例", "时间步", "神经元"),),
    )


# --------------------------------------------------------------------------
# Formulas for the graph size and the saved bytes, checked against measurements
# --------------------------------------------------------------------------


#: (n_steps, n_inputs, n_neurons): the chapter's layer, a wider one, a single step, a big one.
_NODE_CASES = ((10, 3, 5), (7, 4, 50), (1, 3, 5), (40, 300, 512))

#: The layer sizes that ``graphs.fx_node_count`` uses by default (the chapter's network).
_DEFAULT_SIZES = (3, 5)


@cache
def measured_node_count(n_steps: int, n_inputs: int, n_neurons: int) -> int:
    """Nodes of the ``torch.fx`` trace of the static unrolling (:func:`graphs.fx_node_count`)."""
    from companion import graphs

    return graphs.fx_node_count(n_steps, n_inputs=n_inputs, n_neurons=n_neurons)


_NODE_MISTAKES = [
    Mistake(
        "漏掉了固定节点（截距）",
        lambda n_steps, n_inputs, n_neurons: 6 * n_steps,
        "除了每步的节点，图里还有不随步数变化的节点：两个输入（输入列表和初始状态）、"
        "三个参数 Wx、Wy、b 和一个输出节点。",
    ),
    Mistake(
        "每步少数了一个节点",
        lambda n_steps, n_inputs, n_neurons: 5 * n_steps + 6,
        "每步有 6 个节点：从输入列表里取出 x_t、两次矩阵乘法、两次加法和一次 tanh。",
    ),
]


def _node_count_depends_on_sizes(fn: Callable[..., Any], case: tuple[int, ...], value: float):
    """Say so when the reader's count changes with the layer sizes (it must not)."""
    n_steps, n_inputs, n_neurons = case
    if (n_inputs, n_neurons) == _DEFAULT_SIZES:
        return None
    try:
        small = float(_as_numpy(fn(n_steps, *_DEFAULT_SIZES)))
    except Exception:
        return None
    if small != measured_node_count(n_steps, *_DEFAULT_SIZES):
        return None
    return (
        f"节点数随层的大小变了：同样 {n_steps} 步，n_inputs = {_DEFAULT_SIZES[0]}、"
        f"n_neurons = {_DEFAULT_SIZES[1]} 时你的公式给出 {small:g}（正确），这里却给出 {value:g}。"
        "图的节点记录的是做了哪些运算，不是张量多大：一次矩阵乘法不管矩阵多大都是一个节点。"
    )


def check_node_count(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(n_steps, n_inputs, n_neurons) -> int``: nodes of the static unrolling's graph.

    Parameters
    ----------
    fn : callable
        Takes three positive ints and returns the number of nodes in the
        ``torch.fx`` trace of :class:`companion.graphs.UnrolledRNN` over
        ``n_steps`` steps -- compared with :func:`companion.graphs.fx_node_count`.

    Returns
    -------
    CheckResult
        Passed, or a Chinese message with the case, the measured and the
        predicted counts, and the name of the mistake when it is a typical one
        (no intercept, one node per step missing, a count that depends on the
        layer sizes).
    """
    return check_formula(
        "预测静态展开的 torch.fx 图的节点数",
        fn,
        names=("n_steps", "n_inputs", "n_neurons"),
        cases=_NODE_CASES,
        measure=measured_node_count,
        mistakes=_NODE_MISTAKES,
        unit="个节点",
        quantity="节点数",
        explain=_node_count_depends_on_sizes,
    )


#: (batch, n_steps, n_inputs, n_neurons): n_inputs != n_neurons everywhere, one single step.
_SAVED_BYTES_CASES = ((4, 12, 3, 5), (2, 7, 1, 8), (3, 1, 4, 2), (5, 20, 6, 3))


@cache
def measured_saved_bytes(batch: int, n_steps: int, n_inputs: int, n_neurons: int) -> int:
    """Bytes that ``torch_rnn.static_rnn`` keeps for the backward pass.

    Measured, not computed: a float32 cell and the per-step inputs
    ``X.unbind(1)`` of ``X`` [batch, n_steps, n_inputs] are run under
    :func:`companion.memory.saved_tensor_log`; the distinct storages kept
    (parameters left out) are added up.
    """
    import torch

    from companion import memory
    from companion.torch_rnn import BasicRNNCell, static_rnn

    cell = BasicRNNCell(n_inputs, n_neurons, seed=0)
    X = torch.zeros(batch, n_steps, n_inputs)
    return memory.saved_tensor_log(static_rnn, cell, list(X.unbind(1))).kept_nbytes()


def _bytes(batch, n_steps, n_inputs, n_neurons, *, per_step=None, initial=1, itemsize=4):
    """``itemsize * batch * (per_step * n_steps + initial * n_neurons)`` bytes."""
    if per_step is None:
        per_step = n_inputs + n_neurons
    return itemsize * batch * (per_step * n_steps + initial * n_neurons)


_SAVED_BYTES_MISTAKES = [
    Mistake(
        "漏掉了初始状态",
        lambda batch, n_steps, n_inputs, n_neurons: _bytes(
            batch, n_steps, n_inputs, n_neurons, initial=0
        ),
        "第 0 步的矩阵乘法 h_(-1) @ Wy 也保存了初始状态（零向量，形状 [batch, n_neurons]），"
        "所以公式里要多一项 4 · batch · n_neurons。",
    ),
    Mistake(
        "每步只算了隐状态（只用了 n_neurons）",
        lambda batch, n_steps, n_inputs, n_neurons: _bytes(
            batch, n_steps, n_inputs, n_neurons, per_step=n_neurons
        ),
        "每步还要保存输入切片 x_t（形状 [batch, n_inputs]），求 Wx 的梯度要用到它："
        "每步 4 · batch · (n_inputs + n_neurons) 字节。",
    ),
    Mistake(
        "每步只算了输入切片，漏掉了隐状态",
        lambda batch, n_steps, n_inputs, n_neurons: _bytes(
            batch, n_steps, n_inputs, n_neurons, per_step=n_inputs
        ),
        "每步的隐状态 h_t（形状 [batch, n_neurons]）也要保存：tanh 的导数和下一步"
        "求 Wy 的梯度都要用到它。",
    ),
    Mistake(
        "每个隐状态算了两次",
        lambda batch, n_steps, n_inputs, n_neurons: _bytes(
            batch, n_steps, n_inputs, n_neurons, per_step=n_inputs + 2 * n_neurons
        ),
        "h_t 先被 tanh 保存、再被下一步的矩阵乘法保存，但两次保存的是同一块内存，只占一份。",
    ),
    Mistake(
        "按 float64（8 字节）算了",
        lambda batch, n_steps, n_inputs, n_neurons: _bytes(
            batch, n_steps, n_inputs, n_neurons, itemsize=8
        ),
        "单元默认是 float32，每个数 4 字节。",
    ),
    Mistake(
        "忘了乘 batch",
        lambda batch, n_steps, n_inputs, n_neurons: _bytes(1, n_steps, n_inputs, n_neurons),
        "小批量里每个实例都有自己的 x_t 和 h_t：每步保存的张量有 batch 行。",
    ),
    Mistake(
        "把参数也算进去了",
        lambda batch, n_steps, n_inputs, n_neurons: (
            _bytes(batch, n_steps, n_inputs, n_neurons)
            + 4 * (n_inputs * n_neurons + n_neurons * n_neurons + n_neurons)
        ),
        "Wx、Wy、b 虽然也被保存，但它们本来就在内存里，不因反向传播多占内存；"
        "这里只数为反向传播额外保留的张量。",
    ),
]


def check_saved_bytes(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(batch, n_steps, n_inputs, n_neurons) -> int``: bytes kept for backward.

    Parameters
    ----------
    fn : callable
        Takes four positive ints and returns the number of bytes that
        ``torch_rnn.static_rnn(cell, list(X.unbind(1)))`` keeps for the backward
        pass with a float32 cell and ``X`` [batch, n_steps, n_inputs] --
        distinct storages, parameters left out, as ``SavedTensorLog.kept_nbytes()``.

    Returns
    -------
    CheckResult
        Passed, or a Chinese message with the case, the measured and the
        predicted byte counts, and the name of the mistake when it is a
        typical one (no initial state, ``n_neurons`` only per step, ...).
    """
    return check_formula(
        "预测静态展开为反向传播保留的字节数",
        fn,
        names=("batch", "n_steps", "n_inputs", "n_neurons"),
        cases=_SAVED_BYTES_CASES,
        measure=measured_saved_bytes,
        mistakes=_SAVED_BYTES_MISTAKES,
        unit="字节",
        quantity="字节数",
    )
