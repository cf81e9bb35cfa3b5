"""Arabic numerals to Chinese numerals: the translation task of the encoder-decoder.

For chapter 13 (编码器-解码器): the encoder reads the digits of a number
from 0 to 9999, the decoder writes it in Chinese characters, e.g. ``305`` →
``三百零五``. A number with digits ``d3 d2 d1 d0`` is read as::

    n = d3 · 千 + d2 · 百 + d1 · 十 + d0      (千 = 1000, 百 = 100, 十 = 10)

and written with these conventions (the chapter states them too):

* digits 零一二三四五六七八九, units 十百千; ``0`` → 零;
* a digit of 0 writes nothing, and its unit is dropped: trailing zeros vanish
  (20 → 二十, 2000 → 二千) and an inner run of zeros becomes one 零
  (305 → 三百零五, 1005 → 一千零五, 1050 → 一千零五十, 2001 → 二千零一,
  but 1500 → 一千五百);
* 10-19 drop the leading 一 (十, 十一, ..., 十九), but 一 is kept after a higher
  unit (110 → 一百一十);
* 2 before a unit is always 二, never 两 (200 → 二百, 2000 → 二千).

The vocabularies give every token an id, with the special tokens first in both::

    <pad> = 0,  <bos> = 1,  <eos> = 2

The source is the digits of ``n`` (no special token); the target is the Chinese
characters followed by ``<eos>``, and the decoder's input under teacher forcing
is ``[BOS_ID] + target[:-1]``. Everything here is pure Python and NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from companion import validation as v

__all__ = [
    "BOS_ID",
    "EOS_ID",
    "MAX_NUMBER",
    "PAD_ID",
    "SOURCE_TOKENS",
    "TARGET_TOKENS",
    "decode_target",
    "encode_source",
    "encode_target",
    "from_chinese",
    "numeral_dataset",
    "to_chinese",
]

#: The largest number of the task.
MAX_NUMBER = 9999

DIGITS = "零一二三四五六七八九"
#: The unit of each position, counted from the right: ones, 十, 百, 千.
UNITS = ("", "十", "百", "千")

PAD_ID, BOS_ID, EOS_ID = 0, 1, 2
SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>")
#: Token of each source id: the special tokens, then "0" ... "9" (id = 3 + digit).
SOURCE_TOKENS = SPECIAL_TOKENS + tuple("0123456789")
#: Token of each target id: the special tokens, then 零 ... 九, 十, 百, 千.
TARGET_TOKENS = SPECIAL_TOKENS + tuple(DIGITS) + UNITS[1:]

SOURCE_IDS = {token: i for i, token in enumerate(SOURCE_TOKENS)}
TARGET_IDS = {token: i for i, token in enumerate(TARGET_TOKENS)}


def to_chinese(n: int) -> str:
    """Write ``n`` in Chinese numerals, with the conventions of the module docstring.

    Parameters
    ----------
    n : int in [0, 9999]

    Returns
    -------
    str, e.g. ``to_chinese(305) == "三百零五"``; 1 to 7 characters.
    """
    n = v.check_int_between("n", n, 0, MAX_NUMBER)
    if n == 0:
        return DIGITS[0]
    digits = [int(d) for d in str(n)]  # most significant first
    words = []
    zeros_before = False
    for position, digit in enumerate(digits):
        unit = UNITS[len(digits) - 1 - position]
        if digit == 0:
            zeros_before = True  # written as one 零, and only if a non-zero digit follows
            continue
        if zeros_before:
            words.append(DIGITS[0])
            zeros_before = False
        if not (position == 0 and unit == "十" and digit == 1):  # 十二, not 一十二
            words.append(DIGITS[digit])
        words.append(unit)
    return "".join(words)


def from_chinese(s: str) -> int:
    """The number ``s`` writes: the inverse of :func:`to_chinese`.

    Each digit is multiplied by the unit after it (a unit with no digit before it
    counts once: 十二 = 1 · 10 + 2); 零 only separates.

    Parameters
    ----------
    s : str, a numeral exactly as :func:`to_chinese` writes it

    Returns
    -------
    int in [0, 9999]

    Raises
    ------
    ValueError
        If ``s`` is not what :func:`to_chinese` writes for some number, e.g.
        ``"两百"``, ``"一十"``, ``"三百五"`` or a decoder's garbled output.
    """
    if not isinstance(s, str):
        raise TypeError(
            f"s must be a str, a Chinese numeral such as '三百零五'; got {type(s).__name__}"
        )
    bad = ValueError(
        f"s must be a Chinese numeral for a number in [0, {MAX_NUMBER}] written as to_chinese "
        f"writes it (e.g. '三百零五'); got {s!r}"
    )
    total = 0
    digit = None  # the digit waiting for its unit
    for character in s:
        if character in DIGITS:
            digit = DIGITS.index(character)
        elif character in UNITS[1:]:
            total += (1 if digit is None else digit) * 10 ** UNITS.index(character)
            digit = None
        else:
            raise bad
    total += 0 if digit is None else digit
    # The parse accepts more than the convention (二二, 九千九千); writing back checks it.
    if total > MAX_NUMBER or to_chinese(total) != s:
        raise bad
    return total


def encode_source(n: int) -> list[int]:
    """The encoder's input: the ids of the digits of ``n``, most significant first.

    Parameters
    ----------
    n : int in [0, 9999]

    Returns
    -------
    list of 1 to 4 ids into :data:`SOURCE_TOKENS`, e.g. ``305`` → ``[6, 3, 8]``.
    """
    n = v.check_int_between("n", n, 0, MAX_NUMBER)
    return [SOURCE_IDS[digit] for digit in str(n)]


def encode_target(n: int) -> list[int]:
    """The decoder's target: the ids of ``to_chinese(n)``, then :data:`EOS_ID`.

    Parameters
    ----------
    n : int in [0, 9999]

    Returns
    -------
    list of 2 to 8 ids into :data:`TARGET_TOKENS`, e.g. ``305`` → ids of 三 百 零 五 <eos>.
    """
    n = v.check_int_between("n", n, 0, MAX_NUMBER)
    return [TARGET_IDS[character] for character in to_chinese(n)] + [EOS_ID]


def decode_target(ids: Sequence[int] | np.ndarray) -> str:
    """The characters of target ids, up to the first :data:`EOS_ID`.

    ``<pad>`` and ``<bos>`` are skipped (they are not characters), so a padded row
    of a batch or a decoder's output that starts with ``<bos>`` decodes as well.
    The result need not be a valid numeral: score it with :func:`from_chinese`.

    Parameters
    ----------
    ids : list, tuple or int array [n_steps] of ids into :data:`TARGET_TOKENS`

    Returns
    -------
    str, e.g. ``decode_target(encode_target(305)) == "三百零五"``.
    """
    ids = v.check_token_ids("ids", ids, len(TARGET_TOKENS))
    characters = []
    for token_id in ids:
        if token_id == EOS_ID:
            break
        if token_id not in (PAD_ID, BOS_ID):
            characters.append(TARGET_TOKENS[token_id])
    return "".join(characters)


def numeral_dataset(
    seed: int | np.random.Generator = 0, n_train: int = 8000
) -> tuple[np.ndarray, np.ndarray]:
    """Split 0..9999 at random into training and held-out numbers.

    Parameters
    ----------
    seed : int or numpy.random.Generator (a Generator is advanced)
    n_train : int in [0, 10000], the number of training numbers

    Returns
    -------
    train_numbers : int64 [n_train], sorted
    heldout_numbers : int64 [10000 - n_train], sorted; disjoint from ``train_numbers``,
        and together they hold every number from 0 to 9999 once
    """
    rng = v.check_seed(seed)
    n_train = v.check_int_between("n_train", n_train, 0, MAX_NUMBER + 1)
    order = rng.permutation(MAX_NUMBER + 1)
    return np.sort(order[:n_train]), np.sort(order[n_train:])
