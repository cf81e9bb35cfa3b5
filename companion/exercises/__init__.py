"""Automatic checkers for the code exercises of the course.

One module per chapter (``ch01`` ... ``ch08``); each exposes ``check_*``
functions that a reader calls with their own function. A checker runs the
reader's code on several cases, compares with the reference in
:mod:`companion.numpy_rnn`, and answers in Chinese with *specific* feedback:
which shape is wrong, which instance and time step differ and by how much, and
-- when the answer matches a typical mistake (transposed weights, a missing
bias, outputs copied past the end of a sequence, an off-by-one final state) --
the name of that mistake. Each exercise is an ``Exercise`` (or a ``Formula``)
run by the one engine in :mod:`companion.exercises.feedback`; shared case
builders are in :mod:`companion.exercises.cases`.
"""

from companion.exercises.feedback import CheckResult, Exercise, Formula, Mistake

__all__ = ["CheckResult", "Exercise", "Formula", "Mistake"]
