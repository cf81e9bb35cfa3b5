r"""The embedded Reber grammar (Hochreiter & Schmidhuber, 1997): a sequence-classification task.

Taught in chapter 12 (深层 RNN、双向 RNN 与应用: sequence classification). The
Reber grammar is a small automaton over the symbols ``B T P S X V E``; a string
is grammatical when it walks from ``B`` to ``E`` along the arrows::

                      S
                     .-.
                     v |
              T --> (2) -----X----> (4) --S--.
         B   /                   .--'  ^      \
     (0) -> (1)       .----X----'      | P    (6) --E--> end
             \        v                |      /
              P --> (3) -----V----> (5) --V--'
                     ^ |
                     '-'
                      T

Read as a table of transitions (state, symbol) -> next state::

    0 --B--> 1
    1 --T--> 2      1 --P--> 3
    2 --S--> 2      2 --X--> 4
    3 --T--> 3      3 --V--> 5
    4 --X--> 3      4 --S--> 6
    5 --P--> 4      5 --V--> 6
    6 --E--> end

for example ``BTSSXXTVVE`` and ``BPVVE``. The *embedded* grammar wraps a Reber
string between two copies of the same symbol::

    B  T  <Reber string>  T  E        or        B  P  <Reber string>  P  E

e.g. ``BTBPVVETE``. Every local step of such a string is easy to predict except
one: the second-to-last symbol must repeat the second one, which was read a whole
Reber string earlier -- a long-range dependency. :func:`long_range_negatives`
breaks only that rule (``BTBPVVEPE``): every transition is locally legal, so a
classifier that tells these apart from grammatical strings must carry the
second symbol across the whole string. :func:`substitution_negatives` breaks a
string by changing one symbol anywhere, and :func:`is_embedded_reber` checks
that the result is really outside the grammar.

:func:`one_hot` encodes a list of strings as a padded batch
``[batch, n_steps, 7]`` with their lengths (``sequence_length``, chapter 7).
NumPy only; this module does not import torch.
"""

from __future__ import annotations

import numpy as np

from companion import validation as v

__all__ = [
    "SYMBOLS",
    "TRANSITIONS",
    "embedded_reber",
    "is_embedded_reber",
    "is_reber",
    "long_range_negatives",
    "one_hot",
    "reber",
    "substitution_negatives",
]

#: The alphabet, in the order of the one-hot columns.
SYMBOLS = "BTPSXVE"
#: The Reber automaton: state -> ((symbol, next state), ...); state 6 emits E and stops.
TRANSITIONS: dict[int, tuple[tuple[str, int], ...]] = {
    0: (("B", 1),),
    1: (("T", 2), ("P", 3)),
    2: (("S", 2), ("X", 4)),
    3: (("T", 3), ("V", 5)),
    4: (("X", 3), ("S", 6)),
    5: (("P", 4), ("V", 6)),
    6: (("E", -1),),
}
_END = -1


def _check_count(n: object) -> int:
    return v.check_positive_int("n", n)


def _check_strings(name: str, strings: object) -> list[str]:
    if not isinstance(strings, list | tuple):
        raise TypeError(f"{name} must be a list of strings; got {type(strings).__name__}")
    for i, s in enumerate(strings):
        if not isinstance(s, str):
            raise TypeError(f"{name}[{i}] must be a str; got {type(s).__name__}")
    return list(strings)


def reber(seed: int | np.random.Generator) -> str:
    """One Reber string: from state 0, follow an arrow chosen with equal probability.

    Parameters
    ----------
    seed : int or numpy.random.Generator (a Generator is advanced)

    Returns
    -------
    str, starting with ``B`` and ending with ``E`` (at least ``BTXSE``, 5 symbols)
    """
    rng = v.check_seed(seed)
    state, symbols = 0, []
    while state != _END:
        options = TRANSITIONS[state]
        symbol, state = options[rng.integers(len(options))] if len(options) > 1 else options[0]
        symbols.append(symbol)
    return "".join(symbols)


def is_reber(string: str) -> bool:
    """Whether ``string`` is a walk of the Reber automaton from ``B`` to ``E`` (a recogniser)."""
    if not isinstance(string, str):
        raise TypeError(f"string must be a str; got {type(string).__name__}")
    state = 0
    for symbol in string:
        if state == _END:
            return False  # symbols after E
        state = dict(TRANSITIONS[state]).get(symbol, -2)
        if state == -2:
            return False
    return state == _END


def embedded_reber(n: int, *, seed: int | np.random.Generator) -> list[str]:
    """``n`` strings of the embedded Reber grammar: ``B a <Reber> a E``, ``a`` in {T, P}.

    Parameters
    ----------
    n : int >= 1
    seed : int or numpy.random.Generator (a Generator is advanced)

    Returns
    -------
    list of ``n`` str (at least 9 symbols each)
    """
    n = _check_count(n)
    rng = v.check_seed(seed)
    strings = []
    for _ in range(n):
        a = "TP"[rng.integers(2)]
        strings.append("B" + a + reber(rng) + a + "E")
    return strings


def is_embedded_reber(string: str) -> bool:
    """Whether ``string`` is ``B a <Reber string> a E`` with the same ``a`` in {T, P}."""
    if not isinstance(string, str):
        raise TypeError(f"string must be a str; got {type(string).__name__}")
    return (
        len(string) >= 4
        and string[0] == "B"
        and string[-1] == "E"
        and string[1] in "TP"
        and string[-2] == string[1]
        and is_reber(string[2:-2])
    )


def long_range_negatives(n: int, *, seed: int | np.random.Generator) -> list[str]:
    """``n`` strings that break only the long-range rule: ``B a <Reber> b E`` with ``b != a``.

    Every symbol-to-symbol transition is one the grammar allows somewhere; only the
    second-to-last symbol disagrees with the second.

    Returns
    -------
    list of ``n`` str, none of them grammatical
    """
    swap = {"T": "P", "P": "T"}
    return [s[:-2] + swap[s[-2]] + "E" for s in embedded_reber(n, seed=seed)]


def substitution_negatives(n: int, *, seed: int | np.random.Generator) -> list[str]:
    """``n`` strings made ungrammatical by changing one symbol of a grammatical string.

    A position and a different symbol are drawn at random; a change that happens to
    give another grammatical string is drawn again, so every result fails
    :func:`is_embedded_reber`.

    Returns
    -------
    list of ``n`` str, none of them grammatical
    """
    n = _check_count(n)
    rng = v.check_seed(seed)
    out = []
    for s in embedded_reber(n, seed=rng):
        while True:
            i = int(rng.integers(len(s)))
            symbol = SYMBOLS[rng.integers(len(SYMBOLS))]
            candidate = s[:i] + symbol + s[i + 1 :]
            if not is_embedded_reber(candidate):
                break
        out.append(candidate)
    return out


def one_hot(strings: list[str], n_steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Encode strings over ``SYMBOLS`` as a zero-padded one-hot batch and their lengths.

    ``X[i, t, SYMBOLS.index(strings[i][t])] = 1`` for ``t < len(strings[i])``; the
    steps after each string are all zeros (padding, skipped with ``sequence_length``).

    Parameters
    ----------
    strings : list of str over ``B T P S X V E``, at least one
    n_steps : int or None (the longest string's length)

    Returns
    -------
    X : float64 [batch, n_steps, 7]
    lengths : int64 [batch], ``len(strings[i])``
    """
    strings = _check_strings("strings", strings)
    if not strings:
        raise ValueError("strings must hold at least one string; got an empty list")
    lengths = np.array([len(s) for s in strings], dtype=np.int64)
    longest = int(lengths.max())
    n_steps = longest if n_steps is None else v.check_int("n_steps", n_steps, longest)
    X = np.zeros((len(strings), n_steps, len(SYMBOLS)))
    for i, s in enumerate(strings):
        for t, symbol in enumerate(s):
            if symbol not in SYMBOLS:
                raise ValueError(
                    f"strings[{i}] must use only the symbols {SYMBOLS}; got {symbol!r} at {t}"
                )
            X[i, t, SYMBOLS.index(symbol)] = 1.0
    return X, lengths
