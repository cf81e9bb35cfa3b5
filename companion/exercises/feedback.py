"""Compare a reader's answer with the reference and explain the difference in Chinese.

The pattern every chapter's checker follows::

    def check_rnn_step(candidate):
        cases = [...]                                  # inputs to try
        return run_checks(
            "一步循环层",
            candidate,
            reference=lambda Wx, Wy, b, x, h: ...,   # the right answer
            cases=cases,
            mistakes=[Mistake("权重转置", wrong_fn, "提示：…")],
        )

``run_checks`` calls ``candidate`` on every case; if an output differs from the
reference it first asks whether it equals one of the known ``mistakes`` (computed
on the same case) and names it; otherwise it reports the first difference
precisely (shape, or instance/time step and size of the largest gap). Wrap the
candidate in ``on_copies`` when it might modify its arguments in place.
"""

from __future__ import annotations

import copy
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class CheckResult:
    """The outcome of one checker call; shows itself as a short Chinese report."""

    title: str
    passed: bool
    messages: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        mark = "✔ 通过" if self.passed else "✘ 未通过"
        lines = [f"{mark}：{self.title}"] + [f"  - {m}" for m in self.messages]
        return "\n".join(lines)

    __repr__ = __str__


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: its name, a function that makes it, and a hint."""

    name: str
    compute: Callable[..., Any]
    hint: str


def _as_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _fmt_shape(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _position(index: tuple[int, ...], axes: Sequence[str] | None) -> str:
    if axes and len(axes) == len(index):
        return "，".join(f"{axis} = {i}" for axis, i in zip(axes, index, strict=True))
    return "位置 " + _fmt_shape(index)


def describe_difference(
    name: str,
    got: Any,
    expected: Any,
    *,
    atol: float = 1e-5,
    axes: Sequence[str] | None = None,
) -> str | None:
    """``None`` if ``got`` matches ``expected``; else one Chinese sentence saying how not.

    Parameters
    ----------
    name : what the value is called in the exercise (``"h_t"``, ``"outputs"``).
    got, expected : arrays or tensors.
    atol : absolute tolerance.
    axes : names of the axes (``("实例", "时间步", "神经元")``) used to say where the
        largest gap is.
    """
    try:
        got_array = _as_numpy(got)
    except (TypeError, ValueError):
        return f"{name} 应是数值数组，但得到的是 {type(got).__name__}。"
    want = _as_numpy(expected)
    if got_array.shape != want.shape:
        hint = ""
        if got_array.shape == want.shape[::-1] and got_array.ndim == 2:
            hint = "（行列恰好颠倒：是不是把矩阵转置了？）"
        return (
            f"{name} 的形状应为 {_fmt_shape(want.shape)}，"
            f"得到的是 {_fmt_shape(got_array.shape)}{hint}。"
        )
    if not np.all(np.isfinite(got_array)):
        return f"{name} 中出现了 NaN 或无穷大。"
    gap = np.abs(got_array - want)
    if gap.size == 0 or gap.max() <= atol:
        return None
    if gap.ndim == 0:  # a single number: no position to point at
        return f"{name} 的数值不对：应为 {float(want):.4f}，得到 {float(got_array):.4f}。"
    where = tuple(int(i) for i in np.unravel_index(int(np.argmax(gap)), gap.shape))
    return (
        f"{name} 的数值不对：{int((gap > atol).sum())} 个元素超出容差 {atol:g}，"
        f"最大差距 {gap.max():.4g} 出现在 {_position(where, axes)}"
        f"（应为 {want[where]:.4f}，得到 {got_array[where]:.4f}）。"
    )


def _outputs(value: Any) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,)


def _matches(got: tuple[Any, ...], mistake: Mistake, case: Mapping[str, Any], atol: float) -> bool:
    """Does the reader's answer equal what ``mistake`` computes on this case?"""
    try:
        wrong = _outputs(mistake.compute(**case))
    except Exception:  # a mistake that cannot even run on this case is not the one made
        return False
    return len(wrong) == len(got) and all(
        describe_difference("", a, b, atol=atol) is None for a, b in zip(got, wrong, strict=True)
    )


def on_copies(fn: Any, index_hint: str | None = None) -> Any:
    """Call the learner's ``fn`` on deep copies of each case, so in-place edits don't
    leak into the reference or the mistakes; with ``index_hint``, add it to an
    ``IndexError``. Anything that is not callable is returned as is (``run_checks``
    reports it)."""
    if not callable(fn):
        return fn

    def wrapped(**case: Any) -> Any:
        try:
            return fn(**copy.deepcopy(case))
        except IndexError as exc:
            if index_hint is None:
                raise
            raise IndexError(f"{exc}（{index_hint}）") from None

    return wrapped


def run_checks(
    title: str,
    candidate: Callable[..., Any],
    *,
    reference: Callable[..., Any],
    cases: Iterable[Mapping[str, Any]],
    mistakes: Sequence[Mistake] = (),
    output_names: Sequence[str] = ("结果",),
    axes: Sequence[Sequence[str] | None] | None = None,
    atol: float = 1e-5,
) -> CheckResult:
    """Run ``candidate(**case)`` on every case and compare with ``reference(**case)``.

    Returns a :class:`CheckResult`; it passes when every output of every case matches.
    A function returning a tuple is compared element by element against
    ``output_names``. The first failing case stops the check, so the reader sees
    one clear message rather than a wall of them.
    """
    if not callable(candidate):
        return CheckResult(title, False, [f"请传入一个函数，而不是 {type(candidate).__name__}。"])
    cases = list(cases)
    for number, case in enumerate(cases, start=1):
        want = _outputs(reference(**case))
        # The reader's function gets copies: editing its arguments in place must not
        # spoil the reference or later cases.
        copies = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in case.items()}
        try:
            got = _outputs(candidate(**copies))
        except Exception as exc:  # the reader's code: report, never crash the notebook
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return CheckResult(title, False, [f"第 {number} 个测试用例运行出错：{last}"])
        if any(value is None for value in got):
            return CheckResult(
                title, False, [f"第 {number} 个测试用例：函数返回了 None——是不是忘了写 return？"]
            )
        if len(got) != len(want):
            return CheckResult(
                title,
                False,
                [f"函数应返回 {len(want)} 个值（{'、'.join(output_names)}），得到 {len(got)} 个。"],
            )
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            name = output_names[k] if k < len(output_names) else f"第 {k + 1} 个返回值"
            axis_names = axes[k] if axes and k < len(axes) else None
            problem = describe_difference(name, g, w, atol=atol, axes=axis_names)
            if problem is None:
                continue
            for mistake in mistakes:
                if _matches(got, mistake, case, atol):
                    return CheckResult(
                        title, False, [f"第 {number} 个测试用例：{mistake.name}。{mistake.hint}"]
                    )
            return CheckResult(title, False, [f"第 {number} 个测试用例：{problem}"])
    return CheckResult(title, True, [f"全部 {len(cases)} 个测试用例一致。"])


def _case_text(number: int, names: Sequence[str], case: Sequence[int]) -> str:
    values = ", ".join(f"{n}={v}" for n, v in zip(names, case, strict=True))
    return f"第 {number} 个测试用例（{values}）"


def check_formula(
    title: str,
    fn: Callable[..., Any],
    *,
    names: Sequence[str],
    cases: Sequence[tuple[int, ...]],
    measure: Callable[..., int],
    mistakes: Sequence[Mistake],
    unit: str,
    quantity: str,
    explain: Callable[[Callable[..., Any], tuple[int, ...], float], str | None] | None = None,
) -> CheckResult:
    """Check a reader's formula ``fn(*case)`` against a measurement ``measure(*case)``.

    For exercises whose answer is a number predicted by a formula (graph nodes,
    bytes kept for backward): ``names`` label the integer arguments of each case,
    ``unit`` and ``quantity`` word the messages.

    A wrong value is named when it equals a typical mistake (``mistake.compute(*case)``);
    otherwise ``explain(fn, case, value)`` may say more; else both numbers are shown.
    """
    if not callable(fn):
        return CheckResult(title, False, [f"请传入一个函数，而不是 {type(fn).__name__}。"])
    for number, case in enumerate(cases, start=1):
        where = _case_text(number, names, case)
        want = measure(*case)
        try:
            got = fn(*case)
        except Exception as exc:  # the reader's code: report, never crash the notebook
            return CheckResult(title, False, [f"{where}运行出错：{type(exc).__name__}: {exc}"])
        try:
            value = float(_as_numpy(got))
        except (TypeError, ValueError):
            return CheckResult(
                title,
                False,
                [f"{where}：应返回一个整数（{quantity}），得到的是 {type(got).__name__}。"],
            )
        if value == want:
            continue
        for mistake in mistakes:
            if mistake.compute(*case) == value:
                return CheckResult(title, False, [f"{where}：{mistake.name}。{mistake.hint}"])
        extra = explain(fn, case, value) if explain is not None else None
        if extra is not None:
            return CheckResult(title, False, [f"{where}：{extra}"])
        return CheckResult(
            title,
            False,
            [
                f"{where}：实测 {want} {unit}，你的公式给出 {value:g} {unit}"
                f"（差 {value - want:+g}）。"
            ],
        )
    return CheckResult(title, True, [f"全部 {len(cases)} 个测试用例与实测一致。"])
