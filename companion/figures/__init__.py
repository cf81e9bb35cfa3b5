"""Drawing code for the book's figures: Matplotlib, not RNN code.

Nothing here is taught: the chapters show the figures, not how they are
drawn, and no RNN code depends on this package. Kept apart so that the
modules readers study (``numpy_rnn``, ``torch_rnn``, ``sequences``,
``memory`` ...) are only about recurrent networks.

* :mod:`companion.figures.drawing` -- the drawing vocabulary the figures share:
  one scale, one palette, the canvas, boxes, circles, arrows, text.
* :mod:`companion.figures.diagrams` -- the conceptual figures of chapters 1-8 and 11
  (``from companion.figures import diagrams``).
* :mod:`companion.figures.deep` -- chapter 12: a deep RNN's two orders of
  computation, a bidirectional RNN over a padded sequence.
* :mod:`companion.figures.seq2seq` -- chapter 13: the encoder-decoder unrolled,
  with the shape at every arrow.
"""
