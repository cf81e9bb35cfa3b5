"""A character-level language model: embedding, a GRU (or LSTM) cell, a linear head.

Taught in chapter 12 (深层 RNN、双向 RNN 与应用): the model reads a text one
character at a time and, at every step, predicts the **next** character. For ids
``c_0, c_1, ..., c_n`` [batch, n_steps + 1]::

    x_t = E[c_t]                                  embedding, E [vocab_size, n_embedding]
    h_t = cell(x_t, h_{t-1})                      the course's GRUCell, run by dynamic_rnn
    z_t = h_t @ W + b                             logits [vocab_size], W [n_neurons, vocab_size]
    loss = mean_t  -log softmax(z_t)[c_{t+1}]     next-character cross-entropy
    perplexity = exp(loss)                        a uniform guess over V characters gives V

Training is sequence-to-sequence with the targets shifted by one step
(``inputs = ids[:, :-1]``, ``targets = ids[:, 1:]``). :meth:`CharLM.generate` writes
text: it feeds the prompt, then repeatedly turns the last logits into
probabilities with a temperature and draws the next character by inverse CDF
(:mod:`companion.sequences.sampling`), feeding it back in with the state carried.

Generation runs in **float64**: the draw compares a uniform ``u`` with cumulative
probabilities, and two CPUs whose float64 results differ in the last bits
(relative ``~1e-16``) can only disagree when ``u`` lies within ``~1e-16`` of a
boundary -- about one draw in ``10^13`` -- so the same seed writes the same text
everywhere. (float32 round-off, ``~1e-7``, grows through the recurrence and would
flip a draw now and then.)

:meth:`CharLM.save` writes a ``.npz`` without pickles: float32 weights, the
vocabulary as one string, the sizes; :meth:`CharLM.load` reads it back as a
float64 model. ``companion/data/char_lm.npz`` is the checkpoint chapter 12
loads, trained on the course's own prose by ``tools/train_char_lm.py``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch

from companion import torch_rnn as trnn
from companion import validation as v
from companion.data.characters import PARAGRAPH_BREAK, CharVocabulary
from companion.sequences.losses import sequence_cross_entropy, token_cross_entropy
from companion.sequences.sampling import sample_categorical, softmax_with_temperature
from companion.training.torch_loop import linear_head

__all__ = ["CELLS", "CHECKPOINT", "CharLM"]

#: The recurrent cells a :class:`CharLM` can use.
CELLS = {"gru": trnn.GRUCell, "lstm": trnn.LSTMCell}
#: The committed checkpoint of chapter 12 (trained by ``tools/train_char_lm.py``).
CHECKPOINT = Path(__file__).resolve().parents[1] / "data" / "char_lm.npz"


class CharLM(torch.nn.Module):
    """Embedding -> recurrent cell -> linear head: next-character logits at every step.

    Parameters
    ----------
    vocabulary : CharVocabulary
        Its size is ``vocab_size``, the number of classes of the head.
    n_neurons : int >= 1, the size of the cell's state
    n_embedding : int >= 1, the size of each character's vector (default 32)
    cell : {"gru", "lstm"}
    seed : int, numpy.random.Generator or None
        Every weight is drawn with NumPy from this generator: the embedding from
        ``N(0, 1)`` (as ``nn.Embedding``), then the cell, then the head.
    dtype : torch.float32 (default) or torch.float64

    Inputs of ``forward``: ``ids`` int [batch, n_steps], ``initial_state`` or None.
    Outputs: ``logits`` [batch, n_steps, vocab_size] and the final state.
    """

    def __init__(
        self,
        vocabulary: CharVocabulary,
        n_neurons: int,
        *,
        n_embedding: int = 32,
        cell: str = "gru",
        seed: int | np.random.Generator | None = None,
        dtype: Any = torch.float32,
    ) -> None:
        super().__init__()
        if not isinstance(vocabulary, CharVocabulary):
            raise TypeError(f"vocabulary must be a CharVocabulary; got {type(vocabulary).__name__}")
        n_neurons = v.check_positive_int("n_neurons", n_neurons)
        n_embedding = v.check_positive_int("n_embedding", n_embedding)
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {tuple(CELLS)}; got {cell!r}")
        dtype = v.check_float_dtype(dtype, "torch")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.vocabulary = vocabulary
        self.cell_name = cell
        self.embedding = torch.nn.Embedding(vocabulary.size, n_embedding, dtype=dtype)
        with torch.no_grad():
            E = rng.standard_normal((vocabulary.size, n_embedding))
            self.embedding.weight.copy_(torch.as_tensor(E))
        self.cell = CELLS[cell](n_embedding, n_neurons, seed=rng, dtype=dtype)
        self.head = linear_head(n_neurons, vocabulary.size, seed=rng, dtype=dtype)

    @property
    def vocab_size(self) -> int:
        return self.vocabulary.size

    @property
    def n_neurons(self) -> int:
        return self.cell.n_neurons

    @property
    def n_embedding(self) -> int:
        return self.embedding.embedding_dim

    @property
    def dtype(self) -> torch.dtype:
        return self.cell.dtype

    def _check_ids(self, ids: Any, min_steps: int) -> torch.Tensor:
        """``ids`` as an int64 tensor [batch, n_steps >= min_steps] of ids in [0, vocab_size)."""
        if not isinstance(ids, torch.Tensor | np.ndarray):
            raise TypeError(
                f"ids must be an int array or tensor [batch, n_steps]; got {type(ids).__name__}"
            )
        v.check_integer_kind("ids", ids, "an array [batch, n_steps]")
        v.check_rank_and_sizes("ids", v.shape_of(ids), ("batch", "n_steps"), (None, None))
        if ids.shape[1] < min_steps:
            raise ValueError(
                f"ids must have at least {min_steps} steps; got shape {list(v.shape_of(ids))}"
            )
        if isinstance(ids, np.ndarray):  # host data goes to the model's device
            ids = torch.as_tensor(ids, dtype=torch.int64, device=self.head.weight.device)
        elif ids.device != self.head.weight.device:  # never moved behind the caller's back
            raise ValueError(
                f"ids must be on the model's device {self.head.weight.device}; got {ids.device}"
            )
        ids = ids.to(torch.int64)
        if ids.numel() and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(
                f"ids must be character ids in [0, vocab_size) = [0, {self.vocab_size}); "
                f"got values in [{int(ids.min())}, {int(ids.max())}]"
            )
        return ids

    def forward(self, ids: Any, initial_state: Any = None) -> tuple[torch.Tensor, Any]:
        """``ids`` [batch, n_steps] -> (logits [batch, n_steps, vocab_size], final state)."""
        ids = self._check_ids(ids, 1)
        X = self.embedding(ids)  # [batch, n_steps, n_embedding]
        outputs, state = trnn.dynamic_rnn(self.cell, X, initial_state=initial_state)
        return self.head(outputs), state

    def loss(self, ids: Any, initial_state: Any = None) -> torch.Tensor:
        """Mean next-character cross-entropy of ``ids`` [batch, n_steps + 1] (a 0-d tensor).

        ``loss = mean_{i, t} -log softmax(z[i, t])[ids[i, t + 1]]``, the logits ``z``
        computed from ``ids[:, :-1]``: targets are the inputs shifted by one step.
        """
        ids = self._check_ids(ids, 2)
        logits, _ = self(ids[:, :-1], initial_state)
        return token_cross_entropy(logits, ids[:, 1:]).mean()

    def perplexity(self, text: str) -> float:
        """``exp(mean cross-entropy)`` of every character of ``text``, paragraph by paragraph.

        The text is cut after each paragraph break ``"\\n"``; each paragraph is read
        from the zero state after a ``"\\n"`` (the cue for a new paragraph, as when
        generating from ``"\\n"``), and every one of its characters, its closing
        ``"\\n"`` included, is predicted from those before it. The paragraphs run as
        one padded batch; padded positions are masked out of the mean
        (:func:`companion.sequences.losses.sequence_cross_entropy`, chapter 8)::

            loss = sum over the text's characters of -log p(character | its paragraph so far)
                   / len(text)
            perplexity = exp(loss)

        A model that spreads its probability evenly over the ``V`` characters has
        perplexity exactly ``V``; perplexity ``k`` is as uncertain as a fair choice
        among ``k`` characters.

        Parameters
        ----------
        text : str of at least one character; its characters and ``"\\n"`` must be
            in the vocabulary
        """
        if not isinstance(text, str) or not text:
            raise ValueError(f"text must be a non-empty str; got {text!r}")
        if PARAGRAPH_BREAK not in self.vocabulary.tokens:
            raise ValueError(
                "perplexity reads each paragraph after a paragraph break '\\n', "
                "which is not in the vocabulary"
            )
        pieces = [piece + PARAGRAPH_BREAK for piece in text.split(PARAGRAPH_BREAK)]
        pieces[-1] = pieces[-1][:-1]  # the text's own end: no break added
        sequences = [self.vocabulary.encode(PARAGRAPH_BREAK + p) for p in pieces if p]
        lengths = np.array([len(ids) - 1 for ids in sequences])  # characters to predict
        ids = np.zeros((len(sequences), lengths.max() + 1), dtype=np.int64)
        for i, seq in enumerate(sequences):
            ids[i, : len(seq)] = seq
        with torch.no_grad():
            logits, _ = self(ids[:, :-1])  # [paragraphs, longest, vocab_size]
            mean_ce = sequence_cross_entropy(logits, ids[:, 1:], lengths)
        return float(np.exp(float(mean_ce)))

    def generate(
        self, prompt: str, n_chars: int, temperature: float, rng: np.random.Generator
    ) -> str:
        """Write ``n_chars`` characters after ``prompt``, one at a time, in float64.

        ::

            logits, h = model(prompt)                 # the prompt, from the zero state
            repeat n_chars times:
                p = softmax(logits[-1] / temperature)
                c = sample_categorical(p, rng)        # inverse CDF, one u per character
                h = cell(E[c], h);  logits = h @ W + b

        Parameters
        ----------
        prompt : str of at least one character, each in the vocabulary
        n_chars : int >= 0
        temperature : float > 0 (see :func:`companion.sequences.sampling.softmax_with_temperature`)
        rng : numpy.random.Generator, advanced by ``n_chars`` draws

        Returns
        -------
        str, the ``n_chars`` new characters (without the prompt)
        """
        if not isinstance(prompt, str) or not prompt:
            raise ValueError(f"prompt must be a non-empty str; got {prompt!r}")
        n_chars = v.check_int("n_chars", n_chars, 0)
        temperature = v.check_positive_number("temperature", temperature)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy.random.Generator (np.random.default_rng(seed)); "
                f"got {type(rng).__name__}"
            )
        model = self if self.dtype == torch.float64 else copy.deepcopy(self).double()
        ids = self.vocabulary.encode(prompt)
        written = []
        with torch.no_grad():
            logits, state = model(ids[None, :])
            z = logits[0, -1].numpy()  # [vocab_size], float64
            for _ in range(n_chars):
                probs = softmax_with_temperature(z[None, :], temperature)  # [1, vocab_size]
                c = int(sample_categorical(probs, rng)[0])
                written.append(c)
                x = model.embedding(torch.tensor([c]))  # [1, n_embedding]
                state = model.cell(x, state)
                z = model.head(model.cell.output(state))[0].numpy()
        return self.vocabulary.decode(written)

    def save(self, path: str | Path) -> None:
        """Write the model to ``path`` (``.npz``, no pickles), weights as float32.

        Arrays: ``embedding`` [vocab_size, n_embedding], the cell's weights under their
        names (GRU: ``Wx``, ``Wy``, ``bx``, ``by``), ``head_W`` [n_neurons, vocab_size],
        ``head_b`` [vocab_size], ``characters`` (the vocabulary as one str), ``unk``,
        ``cell``.
        """
        arrays = {"embedding": self.embedding.weight}
        arrays.update({name: getattr(self.cell, name) for name in self.cell.weight_names})
        arrays.update({"head_W": self.head.weight.T, "head_b": self.head.bias})
        weights = {k: t.detach().cpu().numpy().astype(np.float32) for k, t in arrays.items()}
        np.savez_compressed(
            path,
            **weights,
            characters=np.array(self.vocabulary.characters()),
            unk=np.array(self.vocabulary.unk),
            cell=np.array(self.cell_name),
        )

    @classmethod
    def load(cls, path: str | Path = CHECKPOINT, dtype: Any = torch.float64) -> CharLM:
        """Read a model written by :meth:`save`; float64 by default (for :meth:`generate`)."""
        dtype = v.check_float_dtype(dtype, "torch")
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        vocabulary = CharVocabulary(str(arrays["characters"]), unk=bool(arrays["unk"]))
        cell_name = str(arrays["cell"])
        n_embedding = arrays["embedding"].shape[1]
        n_neurons = arrays["Wy"].shape[0]
        model = cls(vocabulary, n_neurons, n_embedding=n_embedding, cell=cell_name, dtype=dtype)
        with torch.no_grad():
            model.embedding.weight.copy_(torch.as_tensor(arrays["embedding"]))
            for name in model.cell.weight_names:
                getattr(model.cell, name).copy_(torch.as_tensor(arrays[name]))
            model.head.weight.copy_(torch.as_tensor(arrays["head_W"]).T)
            model.head.bias.copy_(torch.as_tensor(arrays["head_b"]))
        return model
