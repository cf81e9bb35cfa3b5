"""A GRU encoder-decoder that writes numbers in Chinese numerals, with or without attention.

Taught in chapter 13 (编码器-解码器). The task is :mod:`companion.data.numerals`
(``305`` → ``三百零五``). With source tokens ``x_1 .. x_S`` (digits), target
tokens ``y_1 .. y_T`` (characters, the last one ``<eos>``) and ``y_0 = <bos>``::

    embedding: E[x] = one_hot(x) @ E                                   (13.1)
    encoder:   o_s = GRU(E_src[x_s], o_{s-1}),  o_0 = 0,  s = 1 .. len  (13.2)
               h_0 = o_len                      (the encoder's final state)
    decoder:   h_t = GRU(E_tgt[y_{t-1}], h_{t-1}),  t = 1 .. T         (13.3)
               logits_t = h_t @ W + c           (no attention)
               logits_t = [h_t ; c_t] @ W + c   (attention, c_t the context vector
                                                 of companion.models.attention, (13.8))
    teacher forcing: tgt_in = [<bos>, y_1 .. y_{T-1}],  tgt_out = [y_1 .. y_T]  (13.4)
    loss = sum_{i, t <= T_i} -log softmax(logits_{i,t})[y_{i,t}] / sum_i T_i   (13.5)

``E[x]`` is row ``x`` of an embedding matrix (``nn.Embedding``: the one-hot
vector of ``x`` times the matrix). Under *teacher forcing* (:meth:`Seq2Seq.forward`)
the decoder reads the true previous token ``y_{t-1}``: its input is the target
shifted right by one, ``[<bos>, y_1, .., y_{T-1}]``. To translate, it reads its own
previous output instead (:meth:`Seq2Seq.step_fn`, run by
:func:`companion.sequences.greedy_decode` or :func:`companion.sequences.beam_search`).

The recurrences run on the course's :class:`companion.torch_rnn.GRUCell` with
:func:`companion.torch_rnn.dynamic_rnn` (``rnn="companion"``), or on
``torch.nn.GRU`` with the same weights (``rnn="torch.nn"``: the encoder on a
``pack_padded_sequence``), which computes the same function. Every weight is
drawn with NumPy from ``seed``, so a seed gives the same model on every machine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.nn.utils import rnn as rnn_utils

from companion import sequences as sq
from companion import torch_rnn as trnn
from companion import validation as v
from companion.data import numerals
from companion.models.attention import ATTENTION_KINDS, Attention
from companion.training.loop import History, train
from companion.training.torch_loop import linear_head

__all__ = [
    "RNN_KINDS",
    "NumeralBatch",
    "Seq2Seq",
    "embedding",
    "fit",
    "numeral_batch",
    "sequence_loss",
]

RNN_KINDS = ("companion", "torch.nn")
#: The longest target, ``<eos>`` included (七千七百七十七 + <eos>): decoding stops here.
MAX_TARGET_STEPS = 8


class NumeralBatch(NamedTuple):
    """A padded mini-batch of the numeral task (int64 tensors, padded with ``<pad>`` = 0)."""

    src: torch.Tensor  # [batch, n_src]   digit ids
    src_len: torch.Tensor  # [batch]     number of digits
    tgt_in: torch.Tensor  # [batch, n_tgt]   <bos> + target shifted right
    tgt_out: torch.Tensor  # [batch, n_tgt]  target, ending with <eos>
    tgt_len: torch.Tensor  # [batch]     target length, <eos> included


def numeral_batch(numbers: Sequence[int] | np.ndarray) -> NumeralBatch:
    """Encode and right-pad the numbers ``numbers`` for teacher forcing.

    Parameters
    ----------
    numbers : ints in [0, 9999], at least one

    Returns
    -------
    NumeralBatch: ``src`` [batch, n_src], ``src_len`` [batch], ``tgt_in`` and
    ``tgt_out`` [batch, n_tgt] with ``tgt_in[i] = [<bos>] + tgt_out[i][:-1]`` on the
    valid part, ``tgt_len`` [batch]. ``n_src``, ``n_tgt``: the longest in the batch.
    """
    numbers = np.asarray(numbers)
    if numbers.ndim != 1 or numbers.size == 0:
        raise ValueError(
            f"numbers must be a non-empty list of ints; got shape {list(numbers.shape)}"
        )
    sources = [numerals.encode_source(int(n)) for n in numbers]
    targets = [numerals.encode_target(int(n)) for n in numbers]
    inputs = [[numerals.BOS_ID] + t[:-1] for t in targets]
    src, src_len = sq.pad_sequences(sources, pad_value=numerals.PAD_ID, dtype=np.int64)
    tgt_out, tgt_len = sq.pad_sequences(targets, pad_value=numerals.PAD_ID, dtype=np.int64)
    tgt_in, _ = sq.pad_sequences(inputs, pad_value=numerals.PAD_ID, dtype=np.int64)
    return NumeralBatch(*(torch.as_tensor(a) for a in (src, src_len, tgt_in, tgt_out, tgt_len)))


def embedding(
    n_tokens: int, n_embed: int, rng: np.random.Generator, dtype: Any = torch.float32
) -> torch.nn.Embedding:
    """``nn.Embedding(n_tokens, n_embed)`` with weights ``E`` drawn from N(0, 1) by NumPy.

    ``embedding(x) = E[x] = one_hot(x) @ E``: ids [...] → vectors [..., n_embed].
    """
    module = torch.nn.Embedding(n_tokens, n_embed, dtype=dtype)
    with torch.no_grad():
        module.weight.copy_(torch.as_tensor(rng.standard_normal((n_tokens, n_embed))))
    return module


class Encoder(torch.nn.Module):
    """Embedding (13.1), then a GRU over the valid digits of each source (13.2).

    Inputs: ``src`` int [batch, n_src], ``src_len`` int [batch] (each >= 1).
    Outputs: ``outputs`` [batch, n_src, n] (exactly 0 past each length) and the
    final state [batch, n], taken at each source's last valid step.
    """

    def __init__(
        self,
        n_tokens: int,
        n_embed: int,
        n_neurons: int,
        rnn: str,
        dtype: torch.dtype,
        rng: np.random.Generator,
    ) -> None:
        super().__init__()
        self.embedding = embedding(n_tokens, n_embed, rng, dtype)
        self.cell = trnn.GRUCell(n_embed, n_neurons, dtype=dtype, seed=rng)
        self.rnn = rnn
        if rnn == "torch.nn":
            self.gru = self.cell.to_torch(batch_first=True)
            del self.cell

    def forward(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple[torch.Tensor, Any]:
        X = self.embedding(src)  # [batch, n_src, n_embed]
        if self.rnn == "companion":
            return trnn.dynamic_rnn(self.cell, X, sequence_length=src_len)
        packed = rnn_utils.pack_padded_sequence(
            X, src_len.cpu(), batch_first=True, enforce_sorted=False
        )
        outputs, h_n = self.gru(packed)
        outputs, _ = rnn_utils.pad_packed_sequence(
            outputs, batch_first=True, total_length=src.shape[1]
        )
        return outputs, h_n[0]


class Decoder(torch.nn.Module):
    """Embedding, a GRU started from the encoder's state and a linear head (13.3).

    ``run(tgt_in, h0)``: inputs int [batch, n_tgt] and state [batch, n] → outputs
    [batch, n_tgt, n] and the last state. ``readout(outputs, enc_outputs, mask)``:
    logits [batch, n_tgt, V] and the attention weights [batch, n_tgt, n_src] (None
    without attention).
    """

    def __init__(
        self,
        n_tokens: int,
        n_embed: int,
        n_neurons: int,
        attention: str | None,
        rnn: str,
        dtype: torch.dtype,
        rng: np.random.Generator,
    ) -> None:
        super().__init__()
        self.embedding = embedding(n_tokens, n_embed, rng, dtype)
        self.cell = trnn.GRUCell(n_embed, n_neurons, dtype=dtype, seed=rng)
        self.rnn = rnn
        if rnn == "torch.nn":
            self.gru = self.cell.to_torch(batch_first=True)
            del self.cell
        self.attention = None
        n_features = n_neurons
        if attention is not None:
            self.attention = Attention(attention, n_neurons, seed=rng, dtype=dtype)
            n_features = 2 * n_neurons  # [h_t ; c_t]
        self.head = linear_head(n_features, n_tokens, seed=rng, dtype=dtype)

    def run(self, tgt_in: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        X = self.embedding(tgt_in)  # [batch, n_tgt, n_embed]
        if self.rnn == "companion":
            return trnn.dynamic_rnn(self.cell, X, initial_state=h0)
        outputs, h_n = self.gru(X, h0[None].contiguous())
        return outputs, h_n[0]

    def readout(
        self, outputs: torch.Tensor, enc_outputs: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.attention is None:
            return self.head(outputs), None
        context, weights = self.attention(outputs, enc_outputs, mask)
        return self.head(torch.cat([outputs, context], dim=-1)), weights


class Seq2Seq(torch.nn.Module):
    """The encoder-decoder of chapter 13: digits in, Chinese numerals out.

    Parameters
    ----------
    n_embed : int, the size of the embeddings (default 32)
    n_neurons : int, the GRU's size ``n`` in encoder and decoder (default 64)
    attention : None, "dot" or "additive" (:mod:`companion.models.attention`)
    rnn : "companion" (GRUCell + dynamic_rnn) or "torch.nn" (nn.GRU, same weights)
    dtype : torch.float32 (default) or torch.float64
    seed : int or numpy.random.Generator; every weight is drawn from it by NumPy
    n_source_tokens, n_target_tokens : vocabulary sizes (default: the numeral task's)
    """

    def __init__(
        self,
        n_embed: int = 32,
        n_neurons: int = 64,
        *,
        attention: str | None = None,
        rnn: str = "companion",
        dtype: Any = torch.float32,
        seed: int | np.random.Generator = 0,
        n_source_tokens: int = len(numerals.SOURCE_TOKENS),
        n_target_tokens: int = len(numerals.TARGET_TOKENS),
    ) -> None:
        super().__init__()
        n_embed = v.check_positive_int("n_embed", n_embed)
        n_neurons = v.check_positive_int("n_neurons", n_neurons)
        if attention is not None and attention not in ATTENTION_KINDS:
            raise ValueError(f"attention must be None, 'dot' or 'additive'; got {attention!r}")
        if rnn not in RNN_KINDS:
            raise ValueError(f"rnn must be 'companion' or 'torch.nn'; got {rnn!r}")
        dtype = v.check_float_dtype(dtype, "torch")
        rng = v.check_seed(seed)
        self.rnn = rnn
        self.encoder = Encoder(n_source_tokens, n_embed, n_neurons, rnn, dtype, rng)
        self.decoder = Decoder(n_target_tokens, n_embed, n_neurons, attention, rnn, dtype, rng)

    @property
    def dtype(self) -> torch.dtype:
        return self.decoder.head.weight.dtype

    def _check_sources(self, src: Any, src_len: Any) -> tuple[torch.Tensor, torch.Tensor]:
        src, src_len = torch.as_tensor(src), torch.as_tensor(src_len)
        v.check_integer_kind("src", src, "an int tensor [batch, n_src]")
        v.check_rank_and_sizes("src", tuple(src.shape), ("batch", "n_src"), (None, None))
        v.check_integer_kind("src_len", src_len, "an int tensor [batch]")
        v.check_rank_and_sizes("src_len", tuple(src_len.shape), ("batch",), (src.shape[0],))
        if ((src_len < 1) | (src_len > src.shape[1])).any():
            raise ValueError(
                f"src_len must hold lengths in [1, n_src] = [1, {src.shape[1]}]; "
                f"got {src_len.tolist()}"
            )
        return src, src_len

    def encode(self, src: Any, src_len: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run the encoder: ``(enc_outputs [batch, n_src, n], h0 [batch, n], mask bool
        [batch, n_src])``, ``mask[i, s] = s < src_len[i]``."""
        src, src_len = self._check_sources(src, src_len)
        enc_outputs, h0 = self.encoder(src, src_len)
        return enc_outputs, h0, sq.length_mask(src_len, src.shape[1])

    def forward(self, src: Any, src_len: Any, tgt_in: Any) -> torch.Tensor:
        """Teacher forcing: logits [batch, n_tgt, V] for the decoder inputs ``tgt_in``.

        Inputs: ``src`` int [batch, n_src], ``src_len`` int [batch], ``tgt_in`` int
        [batch, n_tgt] (``<bos>`` + the target shifted right, see :func:`numeral_batch`).
        """
        return self.forward_with_weights(src, src_len, tgt_in)[0]

    def forward_with_weights(
        self, src: Any, src_len: Any, tgt_in: Any
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """:meth:`forward` and the attention weights [batch, n_tgt, n_src] (or None)."""
        enc_outputs, h0, mask = self.encode(src, src_len)
        tgt_in = torch.as_tensor(tgt_in)
        v.check_integer_kind("tgt_in", tgt_in, "an int tensor [batch, n_tgt]")
        v.check_rank_and_sizes(
            "tgt_in", tuple(tgt_in.shape), ("batch", "n_tgt"), (enc_outputs.shape[0], None)
        )
        outputs, _ = self.decoder.run(tgt_in, h0)
        return self.decoder.readout(outputs, enc_outputs, mask)

    def start_state(self, src: Any, src_len: Any) -> tuple[torch.Tensor, ...]:
        """The decoder's state before its first step: ``(h0, enc_outputs, mask)``,
        one row per source, so that beam search can gather rows of all three."""
        enc_outputs, h0, mask = self.encode(src, src_len)
        return h0, enc_outputs, mask

    def step_fn(
        self, prev_tokens: torch.Tensor, state: tuple[torch.Tensor, ...]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """One decoder step for greedy decoding or beam search.

        Inputs: ``prev_tokens`` int [k], ``state = (h [k, n], enc_outputs [k, n_src, n],
        mask [k, n_src])``. Outputs: logits [k, V] and the new state (same structure).
        """
        h, enc_outputs, mask = state
        outputs, h_new = self.decoder.run(prev_tokens[:, None], h)  # one step
        logits, _ = self.decoder.readout(outputs, enc_outputs, mask)
        return logits[:, 0], (h_new, enc_outputs, mask)

    @torch.no_grad()
    def decode_sources(
        self, src: Any, src_len: Any, method: str = "greedy", beam_width: int = 3
    ) -> np.ndarray:
        """Token ids [batch, width] emitted for padded sources ``src`` [batch, n_src] with
        lengths ``src_len`` [batch], each row up to its ``<eos>`` (``<pad>`` after), by
        ``method`` "greedy" (:func:`companion.sequences.greedy_decode`) or "beam"
        (:func:`companion.sequences.beam_search`, ``beam_width`` >= 1)."""
        if method not in ("greedy", "beam"):
            raise ValueError(f"method must be 'greedy' or 'beam'; got {method!r}")
        start = self.start_state(src, src_len)
        args = (self.step_fn, start, numerals.BOS_ID, numerals.EOS_ID, MAX_TARGET_STEPS)
        if method == "greedy":
            tokens, _ = sq.greedy_decode(*args, pad_id=numerals.PAD_ID)
        else:
            tokens = sq.beam_search(*args, beam_width=beam_width, pad_id=numerals.PAD_ID)[0]
        return np.asarray(tokens)

    def decode(
        self, numbers: Sequence[int] | np.ndarray, method: str = "greedy", beam_width: int = 3
    ) -> np.ndarray:
        """:meth:`decode_sources` of ``numbers``, right-padded by :func:`numeral_batch`."""
        batch = numeral_batch(numbers)
        return self.decode_sources(batch.src, batch.src_len, method, beam_width)

    def translate(
        self, numbers: Sequence[int] | np.ndarray, method: str = "greedy", beam_width: int = 3
    ) -> list[str]:
        """The Chinese numerals the model writes for ``numbers`` (strings, maybe invalid)."""
        return [numerals.decode_target(row) for row in self.decode(numbers, method, beam_width)]

    def exact_match(
        self, numbers: Sequence[int] | np.ndarray, method: str = "greedy", beam_width: int = 3
    ) -> float:
        """The fraction of ``numbers`` translated exactly (``== to_chinese(n)``)."""
        written = self.translate(numbers, method, beam_width)
        right = sum(w == numerals.to_chinese(int(n)) for w, n in zip(written, numbers, strict=True))
        return right / len(written)


def sequence_loss(model: Seq2Seq, batch: NumeralBatch) -> torch.Tensor:
    """The masked cross-entropy of a batch under teacher forcing (chapter 8's
    :func:`companion.sequences.sequence_cross_entropy`): padding counts not at all."""
    logits = model(batch.src, batch.src_len, batch.tgt_in)
    return sq.sequence_cross_entropy(logits, batch.tgt_out, batch.tgt_len)


def fit(
    model: Seq2Seq,
    numbers: Sequence[int] | np.ndarray,
    n_epochs: int,
    *,
    batch_size: int = 128,
    lr: float = 3e-3,
    seed: int = 0,
    loss_fn: Callable[[Seq2Seq, NumeralBatch], torch.Tensor] = sequence_loss,
    desc: str | None = None,
) -> History:
    """Train ``model`` with Adam on mini-batches of ``numbers``, reshuffled every epoch.

    One step: ``loss_fn(model, batch)``, backward, ``Adam(lr)`` update. The batches
    are drawn by NumPy from ``seed``. Returns the :class:`History` of every step's
    ``"loss"``.
    """
    if not isinstance(model, Seq2Seq):
        raise TypeError(f"model must be a Seq2Seq; got {type(model).__name__}")
    numbers = np.asarray(numbers)
    n_epochs = v.check_int("n_epochs", n_epochs, 0)
    batch_size = v.check_positive_int("batch_size", batch_size)
    rng = v.check_seed(seed)
    n_batches = -(-len(numbers) // batch_size)
    order = np.concatenate([rng.permutation(len(numbers)) for _ in range(n_epochs)])
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def step(i: int) -> dict[str, float]:
        epoch, k = divmod(i, n_batches)
        start = epoch * len(numbers) + k * batch_size
        stop = min(start + batch_size, (epoch + 1) * len(numbers))
        optimizer.zero_grad()
        loss = loss_fn(model, numeral_batch(numbers[order[start:stop]]))
        loss.backward()
        optimizer.step()
        return {"loss": float(loss.detach())}

    return train(step, n_epochs * n_batches, desc=desc)
