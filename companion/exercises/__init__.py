"""Automatic checkers for the code exercises of the course.

One module per chapter (``ch01`` ... ``ch13``) exposes ``check_*`` functions that a
reader calls with their own function. The answer, in Chinese, is specific: which
shape is wrong, which instance and time step differ and by how much, or the name
of the typical mistake made (transposed weights, a missing bias, an off-by-one
final state, ...). Each exercise is data (an ``Exercise``, a ``Formula`` or a
``TextExercise``) run by
the one engine in :mod:`companion.exercises.feedback`; :mod:`companion.exercises.cases`
has the shared case builders.
"""

from companion.exercises.feedback import CheckResult, Exercise, Formula, Mistake, TextExercise

__all__ = ["CheckResult", "Exercise", "Formula", "Mistake", "TextExercise"]
