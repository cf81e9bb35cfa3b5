"""Variable-length sequences: padding, lengths, EOS, masked loss, greedy decoding.

Taught in chapter 7 (变长输入序列: padding and lengths) and chapter 8
(变长输出序列: EOS, masks and a masked loss); used again by chapters 12
(sampling) and 13 (the encoder-decoder). One idea per module:

* :mod:`~companion.sequences.padding` -- ``pad_sequences``, ``unpad``,
  ``length_mask``, ``mask_outputs`` (chapter 7);
* :mod:`~companion.sequences.eos` -- ``lengths_from_eos``, ``mask_after_eos``;
* :mod:`~companion.sequences.losses` -- ``masked_mean``,
  ``token_cross_entropy``, ``sequence_cross_entropy``;
* :mod:`~companion.sequences.decoding` -- ``greedy_decode`` (chapter 8);
* :mod:`~companion.sequences.beam` -- ``beam_search`` (chapter 13);
* :mod:`~companion.sequences.sampling` -- ``softmax_with_temperature``,
  ``sample_categorical`` by inverse CDF (chapter 12; import it by name).

A mini-batch of sequences of different lengths is stored as one padded array
``X`` [batch, n_steps, ...] plus a vector ``lengths`` [batch]; position
``(i, t)`` is *valid* when ``t < lengths[i]``::

    mask[i, t] = t < lengths[i]                                       (padding)
    lengths[i] = 1 + min{t : tokens[i, t] == eos_id}  or n_steps      (eos)
    loss = sum_{i, t < lengths[i]} ce[i, t] / sum_i lengths[i]        (losses)

Arrays and tensors
------------------
Everything works on NumPy arrays. Functions whose main argument is a torch
tensor (``X``, ``outputs``, ``tokens``, ``values``, ``logits``, the sequences of
:func:`pad_sequences`, the ``start_state`` of :func:`greedy_decode`) compute
with torch and return tensors on that tensor's device; they never move data
between devices. Lengths are small and decide the shapes, so they are read on
the host (as ``torch.nn.utils.rnn.pack_padded_sequence`` also does); a length
vector *returned* for a tensor input is an int64 tensor on the input's device.
This package does not import torch: it only uses it when it is given tensors.
"""

from companion.sequences.beam import BeamSearchResult, beam_search
from companion.sequences.decoding import greedy_decode
from companion.sequences.eos import lengths_from_eos, mask_after_eos
from companion.sequences.losses import masked_mean, sequence_cross_entropy, token_cross_entropy
from companion.sequences.padding import length_mask, mask_outputs, pad_sequences, unpad

__all__ = [
    "BeamSearchResult",
    "beam_search",
    "greedy_decode",
    "length_mask",
    "lengths_from_eos",
    "mask_after_eos",
    "mask_outputs",
    "masked_mean",
    "pad_sequences",
    "sequence_cross_entropy",
    "token_cross_entropy",
    "unpad",
]
