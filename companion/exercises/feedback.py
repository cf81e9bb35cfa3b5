"""The engine of the exercise checkers (every chapter): an exercise is data, one loop runs it.

An :class:`Exercise` is a title, the reference answer, the cases to try, the
typical mistakes with their Chinese hints, and the names of the outputs and of
their axes. Checking a reader's function ``fn`` is the same loop for all of them::

    for case in exercise.cases():
        want = exercise.reference(*case)          # the right answer
        got = fn(*copies_of(case))                # the reader's answer
        if got != want:                           # up to atol
            if got == mistake.compute(*case):     # for each named mistake
                return "第 n 个测试用例：<mistake>。<hint>"
            return "第 n 个测试用例：<where and how much they differ>"
    return "全部 N 个测试用例一致。"

``fn`` is called positionally on deep copies of each case, so editing an argument
in place cannot spoil the reference or the later cases (a wrong answer that did
so is told). With ``backend="torch"`` the copies are float64 tensors and torch
cells. A number predicted by a formula (graph nodes, bytes kept for backward) is
a :class:`Formula`, checked against a measurement; an answer that is a
string per number (a numeral) is a :class:`TextExercise`.
"""

from __future__ import annotations

import copy
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from companion import validation as v
from companion.compare import as_float64

BACKENDS = ("numpy", "torch")


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
    """A typical wrong answer: ``text`` is what the reader reads, ``"<name>。<hint>"``;
    ``compute`` makes the same mistake (it is called like the reference)."""

    text: str
    compute: Callable[..., Any]

    @staticmethod
    def table(*rows: str | Callable[..., Any]) -> list[Mistake]:
        """The mistakes of an exercise written as a table: each text followed by the
        function that makes the mistake (``text, compute, text, compute, ...``)."""
        return [Mistake(text, compute) for text, compute in zip(rows[::2], rows[1::2], strict=True)]

    @property
    def name(self) -> str:
        return self.text.split("。", 1)[0]

    @property
    def hint(self) -> str:
        return self.text.split("。", 1)[1]


class AnswerProblem(Exception):
    """Raised by an exercise's ``prepare`` when an answer has the wrong form
    (a single array where a list is asked for, ...); the message is shown as is."""


# Saying how two values differ
def fmt_shape(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _position(index: tuple[int, ...], axes: Sequence[str] | None) -> str:
    if axes and len(axes) == len(index):
        return "，".join(f"{axis} = {i}" for axis, i in zip(axes, index, strict=True))
    return "位置 " + fmt_shape(index)


def _is_whole(value: Any) -> bool:
    """Counts and indices (integer answers) are shown as whole numbers, not ``20.0000``."""
    return isinstance(value, int | np.integer) or np.asarray(value).dtype.kind in "iub"


def describe_difference(
    name: str, got: Any, expected: Any, *, atol: float = 1e-5, axes: Sequence[str] | None = None
) -> str | None:
    """``None`` if ``got`` (array, tensor or number) matches ``expected`` up to ``atol``;
    else one Chinese sentence saying how not, naming the value ``name`` (``"h_t"``) and,
    with the names of its ``axes`` (``("实例", "神经元")``), where the largest gap is."""
    try:
        got_array = as_float64(got)
    except (TypeError, ValueError):
        return f"{name} 应是数值数组，但得到的是 {type(got).__name__}。"
    want = as_float64(expected)
    if got_array.shape != want.shape:
        hint = ""
        if got_array.shape == want.shape[::-1] and got_array.ndim == 2:
            hint = "（行列恰好颠倒：是不是把矩阵转置了？）"
        return (
            f"{name} 的形状应为 {fmt_shape(want.shape)}，"
            f"得到的是 {fmt_shape(got_array.shape)}{hint}。"
        )
    if not np.all(np.isfinite(got_array)):
        return f"{name} 中出现了 NaN 或无穷大。"
    gap = np.abs(got_array - want)
    if gap.size == 0 or gap.max() <= atol:
        return None
    digits = ".0f" if _is_whole(expected) and np.all(got_array == np.round(got_array)) else ".4f"
    if gap.ndim == 0:  # a single number: no position to point at
        return f"{name} 的数值不对：应为 {float(want):{digits}}，得到 {float(got_array):{digits}}。"
    where = tuple(int(i) for i in np.unravel_index(int(np.argmax(gap)), gap.shape))
    return (
        f"{name} 的数值不对：{int((gap > atol).sum())} 个元素超出容差 {atol:g}，"
        f"最大差距 {gap.max():.4g} 出现在 {_position(where, axes)}"
        f"（应为 {want[where]:{digits}}，得到 {got_array[where]:{digits}}）。"
    )


# What the reader's function receives: copies, in the chosen backend
def for_reader(value: Any, backend: str) -> Any:
    """A fresh copy of one case value, as the reader's backend sees it."""
    if backend == "numpy":
        return copy.deepcopy(value)
    import torch

    from companion import numpy_rnn, torch_rnn

    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, list | tuple):
        return type(value)(for_reader(v, backend) for v in value)
    if isinstance(value, numpy_rnn.BasicRNNCell):
        return torch_rnn.BasicRNNCell.from_weights(
            value.Wx, value.Wy, value.b, nonlinearity=value.nonlinearity
        )
    return copy.deepcopy(value)


def _same(before: Any, after: Any) -> bool:
    """Is ``after`` (what the reader's function was given) still equal to ``before``?"""
    if isinstance(before, list | tuple):
        return len(before) == len(after) and all(map(_same, before, after))
    if hasattr(before, "Wx"):  # a cell: compare its weights
        return all(_same(getattr(before, k), getattr(after, k)) for k in ("Wx", "Wy", "b"))
    if isinstance(before, np.ndarray):
        return np.array_equal(before, as_float64(after), equal_nan=True)
    return True


def _modified_note(case: Mapping[str, Any], given: Sequence[Any]) -> str:
    changed = [k for (k, v), g in zip(case.items(), given, strict=True) if not _same(v, g)]
    if not changed:
        return ""
    return (
        f"（另外：函数修改了传入的 {'、'.join(changed)}。检查器每次传入的是副本，"
        "不影响判断；但在你自己的代码里，这会改掉调用者的数据。）"
    )


def _as_outputs(value: Any, n_outputs: int) -> tuple[Any, ...]:
    """A function's result as a tuple of outputs; a list counts as several outputs
    only where several are expected (``return [Y0, Y1]``)."""
    if isinstance(value, tuple) or (isinstance(value, list) and n_outputs > 1):
        return tuple(value)
    return (value,)


def _not_a_function(title: str, fn: Any) -> CheckResult:
    return CheckResult(title, False, [f"请传入一个函数，而不是 {type(fn).__name__}。"])


# The engine
class _Checkable:
    """What :class:`Exercise` and :class:`Formula` share: the public checker made from one."""

    def checker(self, name: str, *, with_backend: bool = True) -> Callable[..., CheckResult]:
        """The chapter's public ``name(fn, backend="numpy")`` (``name(fn)`` without
        ``with_backend``), documented by the exercise's ``doc``."""

        def check(fn: Callable[..., Any], backend: str = "numpy") -> CheckResult:
            return self.check(fn, backend)

        def check_numpy(fn: Callable[..., Any]) -> CheckResult:
            return self.check(fn)

        public = check if with_backend else check_numpy
        public.__name__ = public.__qualname__ = name
        public.__doc__ = self.doc
        return public


@dataclass(frozen=True)
class Exercise(_Checkable):
    """One code exercise as data; :meth:`check` runs a reader's function on it.

    Attributes
    ----------
    title : the Chinese title of the report.
    doc : the docstring of the chapter's checker (:meth:`checker`): the equation, then the
        shape of every input and output.
    reference : the right answer, called positionally with the values of a case.
    cases : builds the cases (on each check), dicts ``{argument name: value}`` in call order.
    outputs : the name of each output, with the names of its axes or ``None``; several
        outputs are returned as a tuple (or a list).
    mistakes : typical wrong answers, tried in order when an output differs.
    prepare : turns the reader's result into what is compared (may raise :class:`AnswerProblem`).
    index_hint : added to an ``IndexError`` raised by the reader's function.
    atol : absolute tolerance.
    """

    title: str
    doc: str
    reference: Callable[..., Any]
    cases: Callable[[], list[dict[str, Any]]]
    outputs: Mapping[str, Sequence[str] | None]
    mistakes: Sequence[Mistake] = ()
    prepare: Callable[[Any, Mapping[str, Any]], Any] | None = None
    index_hint: str | None = None
    atol: float = 1e-5

    def check(self, fn: Any, backend: str = "numpy") -> CheckResult:
        """Run ``fn`` on every case; the first failing case stops the check, so the
        reader sees one clear message rather than a wall of them."""
        backend = v.check_backend(backend, BACKENDS)
        if not callable(fn):
            return _not_a_function(self.title, fn)
        cases = self.cases()
        for number, case in enumerate(cases, start=1):
            given = [for_reader(v, backend) for v in case.values()]
            problem = self._first_problem(fn, case, given, f"第 {number} 个测试用例")
            if problem is not None:
                return CheckResult(self.title, False, [problem + _modified_note(case, given)])
        return CheckResult(self.title, True, [f"全部 {len(cases)} 个测试用例一致。"])

    def _first_problem(
        self, fn: Any, case: Mapping[str, Any], given: list[Any], where: str
    ) -> str | None:
        """What is wrong with ``fn``'s answer on ``case`` (``where``: 第 n 个测试用例)."""
        try:
            raw = fn(*given)
            if self.prepare is not None:
                raw = self.prepare(raw, case)
        except AnswerProblem as exc:
            return f"{where}：{exc}"
        except Exception as exc:  # the reader's code: report, never crash the notebook
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            if isinstance(exc, IndexError) and self.index_hint is not None:
                last = f"IndexError: {exc}（{self.index_hint}）"
            return f"{where}运行出错：{last}"
        want = _as_outputs(self.reference(*case.values()), len(self.outputs))
        got = _as_outputs(raw, len(want))
        if any(value is None for value in got):
            return f"{where}：函数返回了 None——是不是忘了写 return？"
        if len(got) != len(want):
            names = "、".join(self.outputs)
            return f"函数应返回 {len(want)} 个值（{names}），得到 {len(got)} 个。"
        for (name, axes), g, w in zip(self.outputs.items(), got, want, strict=True):
            problem = describe_difference(name, g, w, atol=self.atol, axes=axes)
            if problem is None:
                continue
            for mistake in self.mistakes:
                if self._matches(got, mistake, case):
                    return f"{where}：{mistake.text}"
            return f"{where}：{problem}"
        return None

    def _matches(self, got: tuple[Any, ...], mistake: Mistake, case: Mapping[str, Any]) -> bool:
        """Does the reader's answer equal what ``mistake`` computes on this case?"""
        try:
            wrong = _as_outputs(mistake.compute(*case.values()), len(got))
        except Exception:  # a mistake that cannot even run on this case is not the one made
            return False
        return len(wrong) == len(got) and all(
            describe_difference("", a, b, atol=self.atol) is None
            for a, b in zip(got, wrong, strict=True)
        )


@dataclass(frozen=True)
class Formula(_Checkable):
    """An exercise whose answer is a number predicted by a formula, checked against
    a measurement: ``fn(*case) == measure(*case)`` for every case.

    ``title``, ``doc`` and ``mistakes`` are those of :class:`Exercise`; ``names`` name the
    ints of each case in ``cases``; ``unit`` and ``quantity`` word the messages (``"字节"``,
    ``"字节数"``); ``explain(fn, case, value)`` may say more about an unnamed mistake.
    """

    title: str
    doc: str
    names: Sequence[str]
    cases: Sequence[tuple[int, ...]]
    measure: Callable[..., int]
    mistakes: Sequence[Mistake]
    unit: str
    quantity: str
    explain: Callable[[Callable[..., Any], tuple[int, ...], float], str | None] | None = None

    def check(self, fn: Any) -> CheckResult:
        """Compare ``fn(*case)`` with the measurement, case by case."""
        if not callable(fn):
            return _not_a_function(self.title, fn)
        for number, case in enumerate(self.cases, start=1):
            message = self._problem(fn, case)
            if message is not None:
                values = ", ".join(f"{n}={v}" for n, v in zip(self.names, case, strict=True))
                return CheckResult(
                    self.title, False, [f"第 {number} 个测试用例（{values}）{message}"]
                )
        return CheckResult(self.title, True, [f"全部 {len(self.cases)} 个测试用例与实测一致。"])

    def _problem(self, fn: Callable[..., Any], case: tuple[int, ...]) -> str | None:
        want = self.measure(*case)
        try:
            got = fn(*case)
        except Exception as exc:  # the reader's code: report, never crash the notebook
            return f"运行出错：{type(exc).__name__}: {exc}"
        try:
            value = float(as_float64(got))
        except (TypeError, ValueError):
            return f"：应返回一个整数（{self.quantity}），得到的是 {type(got).__name__}。"
        if value == want:
            return None
        for mistake in self.mistakes:
            if mistake.compute(*case) == value:
                return f"：{mistake.text}"
        extra = self.explain(fn, case, value) if self.explain is not None else None
        if extra is not None:
            return f"：{extra}"
        return (
            f"：实测 {want} {self.unit}，你的公式给出 {value:g} {self.unit}"
            f"（差 {value - want:+g}）。"
        )


@dataclass(frozen=True)
class TextExercise(_Checkable):
    """An exercise whose answer is a string for each number (a numeral, a word),
    compared exactly: ``fn(n) == reference(n)`` for every ``n`` in ``numbers``;
    ``mistakes`` are tried on the first number that differs."""

    title: str
    doc: str
    reference: Callable[[int], str]
    numbers: list[int]
    mistakes: list[Mistake]

    def check(self, fn: Callable[[int], str]) -> CheckResult:
        for k, n in enumerate(self.numbers, start=1):
            want = self.reference(n)
            try:
                got = fn(n)
            except Exception as exc:  # the reader's code: report, never crash the notebook
                return CheckResult(
                    self.title, False, [f"第 {k} 个测试用例（n = {n}）运行出错：{exc!r}"]
                )
            if got == want:
                continue
            hint = next((m.text for m in self.mistakes if m.compute(n) == got), None)
            shown = f"n = {n} 应写成 {want}，得到 {got!r}"
            return CheckResult(self.title, False, [f"第 {k} 个测试用例：{shown}。{hint or ''}"])
        return CheckResult(self.title, True, [f"全部 {len(self.numbers)} 个测试用例一致。"])
