"""Synthetic tasks for the training chapters, generated from a seed (no downloads).

* :mod:`~companion.data.echo` -- :func:`echo_task`: repeat the input of ``delay``
  steps ago (chapter 9, truncated BPTT);
* :mod:`~companion.data.adding` -- :func:`adding_problem`: add the two marked
  numbers of a long sequence (chapter 11, LSTM and GRU);
* :mod:`~companion.data.series` -- generated daily series (linear and nonlinear),
  windows and a chronological split (chapter 12, forecasting);
* :mod:`~companion.data.reber` -- the embedded Reber grammar: strings, a recogniser,
  negatives, one-hot batches (chapter 12, sequence classification);
* :mod:`~companion.data.characters` -- the frozen snapshot of Part I's prose
  (``course_prose.txt``) and its character vocabulary (chapter 12, language model;
  the model trained on it is ``char_lm.npz``, see :mod:`companion.models.char_lm`);
* :mod:`~companion.data.numerals` -- 305 → 三百零五 and its vocabularies (chapter 13,
  the encoder-decoder).

Import the last four by name. The first two return float64 NumPy arrays,
batch-major, and the same arrays for the same seed. This package does not import torch.
"""

from companion.data.adding import MEAN_PREDICTOR_MSE, adding_problem
from companion.data.echo import echo_task

__all__ = ["MEAN_PREDICTOR_MSE", "adding_problem", "echo_task"]
