"""Checkers for the exercises of chapter 5 (静态展开).

``static_rnn`` takes a Python list of per-step inputs and returns a list of
per-step outputs; two exercises go between one array and such a list (NumPy or
PyTorch, a list or a tuple), and two predict the cost of static unrolling by a
formula checked against a measurement: the nodes of the ``torch.fx`` trace
(:func:`companion.graphs.fx_node_count`) and the bytes kept for the backward
pass (:func:`companion.memory.saved_tensor_log`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import numpy as np

from companion.compare import as_float64
from companion.exercises.cases import chapter_batch, measured_kept_bytes
from companion.exercises.feedback import (
    AnswerProblem,
    Exercise,
    Formula,
    Mistake,
    fmt_shape,
)

__all__ = ["check_node_count", "check_saved_bytes", "check_stack", "check_unstack"]


def _as_list(result: Any, case: Mapping[str, Any]) -> np.ndarray:
    """The reader's list of per-step arrays, stacked [n_steps, batch, n_inputs] for
    comparison; raises :class:`AnswerProblem` if it is not a list of equal arrays."""
    batch, n_steps, n_inputs = case["X"].shape
    if isinstance(result, np.ndarray) or hasattr(result, "detach"):
        raise AnswerProblem(
            f"应返回一个 Python 列表（每个时间步一个数组），得到的却是一个形状为 "
            f"{fmt_shape(tuple(result.shape))} 的数组。把它按时间步拆开：list(...) 或列表推导式。"
        )
    if not isinstance(result, list | tuple):
        raise AnswerProblem(
            f"应返回一个 Python 列表（每个时间步一个数组），得到的是 {type(result).__name__}。"
        )
    items = []
    for t, item in enumerate(result):
        try:
            items.append(as_float64(item))
        except (TypeError, ValueError):
            raise AnswerProblem(
                f"列表的第 {t} 个元素应是数组，得到的是 {type(item).__name__}。"
            ) from None
    shapes = [item.shape for item in items]
    if len(set(shapes)) > 1:
        raise AnswerProblem(
            "列表里的数组形状不一致：" + "、".join(fmt_shape(s) for s in shapes[:4]) + "……"
        )
    if len(items) != n_steps and shapes and shapes[0] == (batch, n_inputs):
        raise AnswerProblem(f"列表应有 n_steps = {n_steps} 个元素，得到 {len(items)} 个。")
    return np.stack(items) if items else np.zeros((0,))


def _unstack_cases() -> list[dict[str, Any]]:
    """The chapter's example first; the third has ``batch == n_steps`` so that
    splitting along the wrong axis keeps the shape."""
    rng = np.random.default_rng(505)
    shapes = [(3, 5, 2), (4, 4, 3), (2, 1, 4)]
    return [{"X": chapter_batch()}] + [{"X": rng.normal(size=s)} for s in shapes]


UNSTACK = Exercise(
    "拆分：[batch, n_steps, n_inputs] → 每个时间步一个 [batch, n_inputs]",
    doc="""One array split into a list of per-step arrays, what ``static_rnn`` takes::

        inputs[t] = X[:, t]        (TensorFlow: tf.unstack(tf.transpose(X, [1, 0, 2])))

    Inputs: ``X`` [batch, n_steps, n_inputs].
    Outputs: ``inputs``, a list (or tuple) of ``n_steps`` arrays [batch, n_inputs].
    """,
    # The mistakes, like the reference, give the list stacked along a new first axis.
    reference=lambda X: np.moveaxis(X, 1, 0),
    cases=_unstack_cases,
    prepare=_as_list,
    outputs={"拆出的列表（按时间步叠起来看）": ("时间步", "实例", "输入特征")},
    mistakes=Mistake.table(
        "沿批量轴（第 0 轴）拆分了：列表里每个元素是一个实例 [n_steps, n_inputs]。"
        "static_rnn 需要每个时间步一个数组：inputs[t] = X[:, t]，沿第 1 轴（时间轴）"
        "拆分，例如 [X[:, t] for t in range(X.shape[1])] 或 list(np.moveaxis(X, 1, 0))。",
        lambda X: X,
        "保留了长度为 1 的时间轴：每个元素是 [batch, 1, n_inputs]。"
        "X[:, t:t+1]（或 np.split(X, n_steps, axis=1)）保留了时间轴；"
        "用整数下标 X[:, t] 去掉它，或对每个元素再 squeeze(axis=1)。",
        lambda X: np.moveaxis(X, 1, 0)[:, :, None],
        "用 reshape 代替了转置：形状对，数值错。reshape 只按内存顺序重新划分，"
        "不会交换轴：inputs[0] 里混进了别的时间步。先交换前两个轴（np.moveaxis(X, 1, 0)、"
        "X.transpose(1, 0, 2) 或 X.permute(1, 0, 2)）再拆分。",
        lambda X: X.reshape(X.shape[1], X.shape[0], X.shape[2]),
        "沿特征轴（第 2 轴）拆分了：列表里每个元素是 [batch, n_steps]。"
        "要拆的是时间轴（第 1 轴），不是特征轴。",
        lambda X: np.moveaxis(X, 2, 0),
    ),
)
check_unstack = UNSTACK.checker("check_unstack")


def _stack_cases() -> list[dict[str, Any]]:
    """Per-step outputs; the third case has ``batch == n_steps``."""
    rng = np.random.default_rng(506)
    return [
        {"outputs": [np.tanh(rng.normal(size=(batch, n))) for _ in range(n_steps)]}
        for batch, n_steps, n in ((4, 2, 5), (3, 6, 2), (4, 4, 3), (2, 1, 3))
    ]


STACK = Exercise(
    "合并：每个时间步一个 [batch, n_neurons] → [batch, n_steps, n_neurons]",
    doc="""A list of per-step outputs stacked into one batch-major array::

        Y[:, t] = outputs[t]       (TensorFlow: tf.transpose(tf.stack(outputs), [1, 0, 2]))

    Inputs: ``outputs``, a list of ``n_steps`` arrays [batch, n_neurons] (what
    ``static_rnn`` returns).
    Outputs: ``Y`` [batch, n_steps, n_neurons].
    """,
    reference=lambda outputs: np.stack(outputs, axis=1),
    cases=_stack_cases,
    outputs={"Y": ("实例", "时间步", "神经元")},
    mistakes=Mistake.table(
        "叠起来之后没有把时间轴换回第 1 轴："
        "结果是时间优先的 [n_steps, batch, n_neurons]。"
        "np.stack(outputs) / torch.stack(outputs) 把新轴放在最前面；"
        "用 np.stack(outputs, axis=1)（torch.stack(outputs, dim=1)），"
        "或叠起来后再交换前两个轴。",
        lambda outputs: np.stack(outputs),
        "用 reshape 代替了转置：形状对，数值错。reshape 不交换轴，只按内存顺序重新划分："
        "Y[0] 里混进了别的实例。交换轴要用 transpose / moveaxis / permute，"
        "或直接 stack(..., axis=1)。",
        lambda outputs: np.stack(outputs).reshape(
            outputs[0].shape[0], len(outputs), outputs[0].shape[1]
        ),
        "沿神经元轴拼接了：结果是 [batch, n_steps * n_neurons]。"
        "concatenate 沿已有的轴拼接，不会新增时间轴；要新增一个轴，用 stack。",
        lambda outputs: np.concatenate(outputs, axis=1),
        "沿批量轴拼接了：结果是 [n_steps * batch, n_neurons]。"
        "concatenate 沿已有的轴拼接，不会新增时间轴；用 np.stack(outputs, axis=1)。",
        lambda outputs: np.concatenate(outputs, axis=0),
    ),
)
check_stack = STACK.checker("check_stack")

#: The layer sizes that ``graphs.fx_node_count`` uses by default (the chapter's network).
_DEFAULT_SIZES = (3, 5)


@cache
def measured_node_count(n_steps: int, n_inputs: int, n_neurons: int) -> int:
    """Nodes of the ``torch.fx`` trace of the static unrolling (:func:`graphs.fx_node_count`)."""
    from companion import graphs

    return graphs.fx_node_count(n_steps, n_inputs=n_inputs, n_neurons=n_neurons)


def _node_count_depends_on_sizes(fn: Callable[..., Any], case: tuple[int, ...], value: float):
    """Say so when the reader's count changes with the layer sizes (it must not)."""
    n_steps, n_inputs, n_neurons = case
    if (n_inputs, n_neurons) == _DEFAULT_SIZES:
        return None
    try:
        small = float(as_float64(fn(n_steps, *_DEFAULT_SIZES)))
    except Exception:
        return None
    if small != measured_node_count(n_steps, *_DEFAULT_SIZES):
        return None
    return (
        f"节点数随层的大小变了：同样 {n_steps} 步，n_inputs = {_DEFAULT_SIZES[0]}、"
        f"n_neurons = {_DEFAULT_SIZES[1]} 时你的公式给出 {small:g}（正确），这里却给出 {value:g}。"
        "图的节点记录的是做了哪些运算，不是张量多大：一次矩阵乘法不管矩阵多大都是一个节点。"
    )


NODE_COUNT = Formula(
    "预测静态展开的 torch.fx 图的节点数",
    doc="""A formula for the nodes of the static unrolling's ``torch.fx`` trace
    (:class:`companion.graphs.UnrolledRNN` over ``n_steps`` steps), compared with
    :func:`companion.graphs.fx_node_count`.

    Inputs: ``n_steps``, ``n_inputs``, ``n_neurons`` (positive ints).
    Outputs: the number of nodes (an int).
    """,
    names=("n_steps", "n_inputs", "n_neurons"),
    # the chapter's layer, a wider one, a single step, a big one
    cases=((10, 3, 5), (7, 4, 50), (1, 3, 5), (40, 300, 512)),
    measure=measured_node_count,
    unit="个节点",
    quantity="节点数",
    explain=_node_count_depends_on_sizes,
    mistakes=Mistake.table(
        "漏掉了固定节点（截距）。除了每步的节点，图里还有不随步数变化的节点："
        "两个输入（输入列表和初始状态）、三个参数 Wx、Wy、b 和一个输出节点。",
        lambda n_steps, n_inputs, n_neurons: 6 * n_steps,
        "每步少数了一个节点。每步有 6 个节点：从输入列表里取出 x_t、两次矩阵乘法、"
        "两次加法和一次 tanh。",
        lambda n_steps, n_inputs, n_neurons: 5 * n_steps + 6,
    ),
)
check_node_count = NODE_COUNT.checker("check_node_count", with_backend=False)


@cache
def measured_saved_bytes(batch: int, n_steps: int, n_inputs: int, n_neurons: int) -> int:
    """Bytes that ``torch_rnn.static_rnn`` keeps for the backward pass, measured."""
    from companion.torch_rnn import static_rnn

    def run(cell, X):
        return static_rnn(cell, list(X.unbind(1)))

    return measured_kept_bytes(run, batch, n_steps, n_inputs, n_neurons)


# The mistaken formulas write batch, n_steps, n_inputs, n_neurons as B, T, I, N:
# the right one is 4 * B * ((I + N) * T + N), an input slice and a state per step
# and the initial state, 4 bytes each.
SAVED_BYTES = Formula(
    "预测静态展开为反向传播保留的字节数",
    doc="""A formula for the bytes ``torch_rnn.static_rnn(cell, list(X.unbind(1)))``
    keeps for the backward pass (float32 cell; distinct storages, parameters left
    out, as ``SavedTensorLog.kept_nbytes()``), compared with a measurement.

    Inputs: ``batch``, ``n_steps``, ``n_inputs``, ``n_neurons`` (positive ints),
    ``X`` being [batch, n_steps, n_inputs].
    Outputs: the number of bytes (an int).
    """,
    names=("batch", "n_steps", "n_inputs", "n_neurons"),
    # n_inputs != n_neurons everywhere, and one single step
    cases=((4, 12, 3, 5), (2, 7, 1, 8), (3, 1, 4, 2), (5, 20, 6, 3)),
    measure=measured_saved_bytes,
    unit="字节",
    quantity="字节数",
    mistakes=Mistake.table(
        "漏掉了初始状态。第 0 步的矩阵乘法 h_(-1) @ Wy 也保存了初始状态（零向量，"
        "形状 [batch, n_neurons]），所以公式里要多一项 4 · batch · n_neurons。",
        lambda B, T, I, N: 4 * B * (I + N) * T,
        "每步只算了隐状态（只用了 n_neurons）。"
        "每步还要保存输入切片 x_t（形状 [batch, n_inputs]），求 Wx 的梯度要用到它："
        "每步 4 · batch · (n_inputs + n_neurons) 字节。",
        lambda B, T, I, N: 4 * B * (N * T + N),
        "每步只算了输入切片，漏掉了隐状态。每步的隐状态 h_t（形状 [batch, n_neurons]）"
        "也要保存：tanh 的导数和下一步求 Wy 的梯度都要用到它。",
        lambda B, T, I, N: 4 * B * (I * T + N),
        "每个隐状态算了两次。h_t 先被 tanh 保存、再被下一步的矩阵乘法保存，"
        "但两次保存的是同一块内存，只占一份。",
        lambda B, T, I, N: 4 * B * ((I + 2 * N) * T + N),
        "按 float64（8 字节）算了。单元默认是 float32，每个数 4 字节。",
        lambda B, T, I, N: 8 * B * ((I + N) * T + N),
        "忘了乘 batch。小批量里每个实例都有自己的 x_t 和 h_t：每步保存的张量有 batch 行。",
        lambda B, T, I, N: 4 * ((I + N) * T + N),
        "把参数也算进去了。Wx、Wy、b 虽然也被保存，但它们本来就在内存里，"
        "不因反向传播多占内存；这里只数为反向传播额外保留的张量。",
        lambda B, T, I, N: 4 * B * ((I + N) * T + N) + 4 * (I * N + N * N + N),
    ),
)
check_saved_bytes = SAVED_BYTES.checker("check_saved_bytes", with_backend=False)
