"""The course's own prose as a corpus, and a vocabulary of its characters (chapter 12).

The character-level language model of chapter 12 (深层 RNN、双向 RNN 与应用) learns to
write like this book. Its corpus is ``companion/data/course_prose.txt``: the
Chinese prose of Part I's chapters, one paragraph per line, extracted by
``tools/extract_prose.py`` (code, formulas, tables and markup removed). The
snapshot is **frozen**: later edits of Part I do not change it, so the committed
checkpoint ``char_lm.npz`` stays true to its corpus. No third-party text is in it.

A text becomes a sequence of ids through a :class:`CharVocabulary`, the sorted
distinct characters of the corpus (the paragraph break ``"\\n"`` among them)::

    ids[t] = vocabulary.index(text[t])        text = decode(encode(text))

The split into training and validation text is fixed and by whole paragraphs:
paragraph ``k`` (counted from 0) is for validation when ``k % 10 == 9``, so both
parts cover every chapter and no paragraph is cut in two. Pure Python and NumPy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from companion import validation as v

__all__ = [
    "PARAGRAPH_BREAK",
    "SNAPSHOT",
    "UNK",
    "VALIDATION_EVERY",
    "CharVocabulary",
    "course_paragraphs",
    "load_course_prose",
    "train_validation_text",
]

#: The committed snapshot (frozen; ``tools/extract_prose.py`` writes it).
SNAPSHOT = Path(__file__).with_name("course_prose.txt")
#: Every paragraph ends with this character: the model learns where paragraphs end.
PARAGRAPH_BREAK = "\n"
#: The token of characters outside the corpus, when a vocabulary has one.
UNK = "<unk>"
#: Paragraph ``k`` is for validation when ``k % VALIDATION_EVERY == VALIDATION_EVERY - 1``.
VALIDATION_EVERY = 10


class CharVocabulary:
    """Ids for characters: token ``i`` is ``tokens[i]``, sorted by code point.

    Parameters
    ----------
    characters : str
        The characters of the vocabulary (duplicates allowed; they are sorted and
        made unique).
    unk : bool
        False (default): a character outside the vocabulary is an error.
        True: id 0 is :data:`UNK`, and such characters are encoded as 0.

    Attributes
    ----------
    tokens : tuple of str, ``[vocab_size]``
    size : int, the number of tokens (``len(vocabulary)`` too)
    """

    def __init__(self, characters: str, *, unk: bool = False) -> None:
        if not isinstance(characters, str):
            raise TypeError(f"characters must be a str; got {type(characters).__name__}")
        if not isinstance(unk, bool):
            raise TypeError(f"unk must be a bool (True or False); got {type(unk).__name__}")
        if not characters:
            raise ValueError("characters must hold at least one character; got an empty str")
        chars = sorted(set(characters))
        self.unk = unk
        self.tokens: tuple[str, ...] = ((UNK,) if unk else ()) + tuple(chars)
        self._ids = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def from_text(cls, text: str, *, unk: bool = False) -> CharVocabulary:
        """The vocabulary of every distinct character of ``text``."""
        return cls(text, unk=unk)

    @property
    def size(self) -> int:
        return len(self.tokens)

    def __len__(self) -> int:
        return len(self.tokens)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, CharVocabulary) and self.tokens == other.tokens

    def __hash__(self) -> int:
        return hash(self.tokens)

    def __repr__(self) -> str:
        return f"CharVocabulary(size={self.size}, unk={self.unk})"

    def characters(self) -> str:
        """The characters, in id order, as one str (without :data:`UNK`): what ``.npz`` stores."""
        return "".join(self.tokens[1:] if self.unk else self.tokens)

    def encode(self, text: str) -> np.ndarray:
        """``text`` [n] -> int64 ids [n]: ``ids[t]`` is the id of ``text[t]``.

        Raises
        ------
        TypeError
            If ``text`` is not a str.
        ValueError
            If a character is not in the vocabulary (and ``unk`` is False); the
            message names it and its position.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {type(text).__name__}")
        ids = np.empty(len(text), dtype=np.int64)
        for t, char in enumerate(text):
            i = self._ids.get(char)
            if i is None:
                if not self.unk:
                    raise ValueError(
                        f"text[{t}] = {char!r} is not in the vocabulary of {self.size} "
                        "characters (build it with unk=True to map such characters to <unk>)"
                    )
                i = 0
            ids[t] = i
        return ids

    def decode(self, ids: Any) -> str:
        """Ids [n] (list or 1-D integer array) -> the str of their tokens."""
        return "".join(self.tokens[i] for i in v.check_token_ids("ids", ids, self.size))


def course_paragraphs() -> list[str]:
    """The paragraphs of the frozen snapshot, in the book's order (no line breaks inside)."""
    return load_course_prose().splitlines()


def load_course_prose() -> str:
    """The whole snapshot: every paragraph followed by :data:`PARAGRAPH_BREAK`."""
    return SNAPSHOT.read_text(encoding="utf-8")


def train_validation_text(paragraphs: list[str] | None = None) -> tuple[str, str]:
    """The fixed split by paragraphs: ``(training text, validation text)``.

    Paragraph ``k`` goes to validation when ``k % 10 == 9`` (:data:`VALIDATION_EVERY`),
    otherwise to training; each text is its paragraphs, each followed by ``"\\n"``.

    Parameters
    ----------
    paragraphs : list of str, or None for :func:`course_paragraphs`
    """
    if paragraphs is None:
        paragraphs = course_paragraphs()
    if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
        raise TypeError("paragraphs must be a list of str")
    last = VALIDATION_EVERY - 1
    train = [p for k, p in enumerate(paragraphs) if k % VALIDATION_EVERY != last]
    valid = [p for k, p in enumerate(paragraphs) if k % VALIDATION_EVERY == last]
    return "".join(p + PARAGRAPH_BREAK for p in train), "".join(p + PARAGRAPH_BREAK for p in valid)
