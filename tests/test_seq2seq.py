"""Tests of ``companion.models.seq2seq``: the encoder-decoder of chapter 13.

Teacher forcing against a step-by-step loop, padding that changes nothing,
decoding until EOS, beam width 1 == greedy, the same model built from
``torch.nn.GRU``, a short training run, bad input.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion import sequences as sq
from companion.compare import max_abs_diff
from companion.data import numerals
from companion.models import seq2seq as s2s

KINDS = [None, "dot", "additive"]
NUMBERS = [305, 20, 7, 2000, 1010, 9999, 0, 110]


def small(attention=None, rnn="companion", seed=0, dtype=torch.float64):
    return s2s.Seq2Seq(8, 12, attention=attention, rnn=rnn, dtype=dtype, seed=seed)


@pytest.fixture(scope="module")
def trained():
    """A small model trained briefly (float64): enough to emit EOS."""
    torch.set_num_threads(1)
    train, _ = numerals.numeral_dataset(0, n_train=2000)
    model = s2s.Seq2Seq(16, 32, attention="dot", dtype=torch.float64, seed=1)
    history = s2s.fit(model, train, 2, batch_size=64, lr=1e-2)
    return model, history


def test_batch_shapes_and_the_shift_of_teacher_forcing():
    batch = s2s.numeral_batch(NUMBERS)
    assert batch.src.shape == (8, 4) and batch.tgt_out.shape == batch.tgt_in.shape == (8, 8)
    assert batch.src_len.tolist() == [len(str(n)) for n in NUMBERS]
    assert batch.tgt_len.tolist() == [len(numerals.to_chinese(n)) + 1 for n in NUMBERS]
    assert bool((batch.tgt_in[:, 0] == numerals.BOS_ID).all())
    for i, n in enumerate(NUMBERS):
        k = int(batch.tgt_len[i])
        assert batch.tgt_in[i, 1:k].tolist() == batch.tgt_out[i, : k - 1].tolist()
        assert numerals.decode_target(batch.tgt_out[i].tolist()) == numerals.to_chinese(n)
        assert bool((batch.tgt_out[i, k:] == numerals.PAD_ID).all())


@pytest.mark.parametrize("attention", KINDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shapes_and_dtypes(attention, dtype):
    model = small(attention, dtype=dtype)
    batch = s2s.numeral_batch(NUMBERS)
    enc_outputs, h0, mask = model.encode(batch.src, batch.src_len)
    assert enc_outputs.shape == (8, 4, 12) and h0.shape == (8, 12) and mask.shape == (8, 4)
    logits, weights = model.forward_with_weights(batch.src, batch.src_len, batch.tgt_in)
    assert logits.shape == (8, 8, len(numerals.TARGET_TOKENS)) and logits.dtype == dtype
    assert (weights is None) == (attention is None)
    if weights is not None:
        assert weights.shape == (8, 8, 4)
        assert bool((weights[~mask[:, None, :].expand_as(weights)] == 0).all())


@pytest.mark.parametrize("attention", KINDS)
def test_teacher_forcing_equals_a_step_by_step_loop(attention):
    model = small(attention)
    batch = s2s.numeral_batch(NUMBERS)
    logits = model(batch.src, batch.src_len, batch.tgt_in)
    state = model.start_state(batch.src, batch.src_len)
    for t in range(batch.tgt_in.shape[1]):
        step_logits, state = model.step_fn(batch.tgt_in[:, t], state)
        assert max_abs_diff(step_logits, logits[:, t]) < 1e-12


def _loss_and_grads(model, batch):
    model.zero_grad()
    loss = s2s.sequence_loss(model, batch)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("attention", KINDS)
def test_padding_changes_neither_loss_nor_gradients(attention):
    model = small(attention)
    batch = s2s.numeral_batch(NUMBERS)
    src, tgt_in, tgt_out = batch.src.clone(), batch.tgt_in.clone(), batch.tgt_out.clone()
    src[~sq.length_mask(batch.src_len, src.shape[1])] = 7  # a digit, not <pad>
    pad_tgt = ~sq.length_mask(batch.tgt_len, tgt_out.shape[1])
    tgt_out[pad_tgt] = 5
    tgt_in[pad_tgt] = 9
    changed = s2s.NumeralBatch(src, batch.src_len, tgt_in, tgt_out, batch.tgt_len)
    loss, grads = _loss_and_grads(model, batch)
    loss2, grads2 = _loss_and_grads(model, changed)
    assert max_abs_diff(loss, loss2) < 1e-12
    assert max(max_abs_diff(g, g2) for g, g2 in zip(grads, grads2, strict=True)) < 1e-12
    # the unmasked mean does see the padding (the pitfall of chapter 13)
    logits = model(batch.src, batch.src_len, batch.tgt_in)
    unmasked = sq.token_cross_entropy(logits, batch.tgt_out).mean()
    unmasked2 = sq.token_cross_entropy(logits, tgt_out).mean()
    assert max_abs_diff(unmasked, unmasked2) > 1e-3


@pytest.mark.parametrize("attention", KINDS)
def test_companion_cells_and_torch_nn_gru_give_the_same_model(attention):
    ours, theirs = small(attention), small(attention, rnn="torch.nn")
    assert hasattr(theirs.encoder, "gru") and isinstance(theirs.decoder.gru, torch.nn.GRU)
    batch = s2s.numeral_batch(NUMBERS)
    logits = ours(batch.src, batch.src_len, batch.tgt_in)
    logits_nn = theirs(batch.src, batch.src_len, batch.tgt_in)
    assert max_abs_diff(logits, logits_nn) < 1e-12
    loss, grads = _loss_and_grads(ours, batch)
    loss_nn, grads_nn = _loss_and_grads(theirs, batch)
    assert max_abs_diff(loss, loss_nn) < 1e-12
    norm = sum(float((g * g).sum()) for g in grads) ** 0.5
    norm_nn = sum(float((g * g).sum()) for g in grads_nn) ** 0.5
    assert abs(norm - norm_nn) < 1e-10 * norm
    assert ours.translate(NUMBERS, "beam", 2) == theirs.translate(NUMBERS, "beam", 2)


def test_the_same_seed_gives_the_same_weights():
    a, b, c = small("additive", seed=3), small("additive", seed=3), small("additive", seed=4)
    pairs = list(zip(a.parameters(), b.parameters(), strict=True))
    assert all(torch.equal(p, q) for p, q in pairs)
    assert not torch.equal(a.decoder.head.weight, c.decoder.head.weight)
    f32 = small("additive", seed=3, dtype=torch.float32)
    assert all(p.dtype == torch.float32 for p in f32.parameters())


def test_training_lowers_the_loss_and_greedy_decoding_stops_at_eos(trained):
    model, history = trained
    assert history.last("loss") < 0.5 * history["loss"][0]
    tokens = model.decode(NUMBERS)
    for row in tokens:
        eos = np.flatnonzero(row == numerals.EOS_ID)
        assert eos.size >= 1
        assert bool((row[eos[0] + 1 :] == numerals.PAD_ID).all())
    # the same, written as a loop that feeds back the argmax until EOS
    batch = s2s.numeral_batch(NUMBERS)
    with torch.no_grad():
        for i in range(len(NUMBERS)):
            state = model.start_state(batch.src[i : i + 1], batch.src_len[i : i + 1])
            prev, emitted = torch.tensor([numerals.BOS_ID]), []
            while not emitted or emitted[-1] != numerals.EOS_ID:
                logits, state = model.step_fn(prev, state)
                prev = logits.argmax(-1)
                emitted.append(int(prev))
            assert tokens[i, : len(emitted)].tolist() == emitted
    assert model.translate(NUMBERS) == [numerals.decode_target(row) for row in tokens]
    assert model.exact_match(NUMBERS) > 0


def test_beam_width_one_is_greedy(trained):
    model, _ = trained
    numbers = np.arange(0, 10_000, 37)
    greedy = model.decode(numbers)
    beam = model.decode(numbers, "beam", beam_width=1)
    assert np.array_equal(greedy, beam)
    assert model.exact_match(numbers, "beam", 3) >= 0


def test_bad_input():
    with pytest.raises(ValueError, match="attention must be None, 'dot' or 'additive'"):
        s2s.Seq2Seq(attention="cosine")
    with pytest.raises(ValueError, match="rnn must be 'companion' or 'torch.nn'"):
        s2s.Seq2Seq(rnn="tf")
    with pytest.raises(ValueError, match="n_neurons"):
        s2s.Seq2Seq(n_neurons=0)
    model = small()
    batch = s2s.numeral_batch(NUMBERS)
    with pytest.raises(ValueError, match=r"src_len must hold lengths in \[1, n_src\]"):
        model(batch.src, torch.zeros(8, dtype=torch.int64), batch.tgt_in)
    with pytest.raises(TypeError, match="src"):
        model(batch.src.double(), batch.src_len, batch.tgt_in)
    with pytest.raises(ValueError, match="src_len"):
        model(batch.src, batch.src_len[:3], batch.tgt_in)
    with pytest.raises(ValueError, match="tgt_in"):
        model(batch.src, batch.src_len, batch.tgt_in[:3])
    with pytest.raises(ValueError, match="method must be 'greedy' or 'beam'"):
        model.translate([1, 2], method="sample")
    with pytest.raises(ValueError, match="n must be"):
        s2s.numeral_batch([10_000])
    with pytest.raises(ValueError, match="numbers must be a non-empty"):
        s2s.numeral_batch([])
    with pytest.raises(TypeError, match="model must be a Seq2Seq"):
        s2s.fit(torch.nn.Linear(2, 2), [1, 2], 1)
