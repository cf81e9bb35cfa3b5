"""Small models built from the course's cells, for the applications of Part II.

Import each by its module (this package re-exports nothing):

* :mod:`~companion.models.baselines` -- naive, seasonal-naive and linear
  autoregressive forecasts, the yardsticks of time-series forecasting (chapter 12);
* :mod:`~companion.models.char_lm` -- a character-level language model
  (chapter 12);
* :mod:`~companion.models.seq2seq` and :mod:`~companion.models.attention` -- a
  GRU encoder-decoder and the attention it learns to use (chapter 13).
"""
