"""Tests of ``companion.memory._nested_hooks``: the one patch of PyTorch (chapter 6).

Recording what ``save_on_cpu`` and ``torch.utils.checkpoint`` pack needs the
patch of ``saved_tensors_hooks.__enter__`` described in that module. These
tests check each implementation detail it relies on, so that a torch release
that changes one of them fails here, loudly, instead of logging nothing.
"""

from __future__ import annotations

import pytest
import torch
import torch.utils.checkpoint
from memory_cases import random_cell, random_X
from torch.autograd.graph import save_on_cpu, saved_tensors_hooks

from companion import memory
from companion.memory._nested_hooks import hook_label, spy_on_nested_hooks


def _checkpoint_hook_classes():
    module = torch.utils.checkpoint
    return [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, saved_tensors_hooks)
    ]


def test_saved_tensors_hooks_reads_pack_hook_when_entered():
    """Detail 1: a pack hook swapped in after construction is the one that runs."""
    seen = []
    hooks = saved_tensors_hooks(lambda t: t, lambda t: t)
    hooks.pack_hook = lambda t: seen.append(t.shape) or t
    x = torch.ones(3, requires_grad=True)
    with hooks:
        (x * x).sum()
    assert seen, "saved_tensors_hooks.__enter__ no longer reads self.pack_hook"


def test_no_hook_class_in_use_overrides_enter():
    """Detail 2: save_on_cpu and torch.utils.checkpoint's hook classes inherit __enter__."""
    classes = [save_on_cpu, *_checkpoint_hook_classes()]
    assert len(classes) > 1, "torch.utils.checkpoint defines no saved_tensors_hooks subclass"
    for cls in classes:
        assert cls.__enter__ is saved_tensors_hooks.__enter__, cls.__qualname__


def test_checkpoint_packs_through_a_hook_class_of_torch_utils_checkpoint():
    """Detail 3: non-reentrant checkpoint opens a hook context defined in that module."""
    labels = []

    def spy(pack, label):
        labels.append(label)
        return pack

    x = torch.ones(3, requires_grad=True)
    with spy_on_nested_hooks(spy):
        torch.utils.checkpoint.checkpoint(torch.tanh, x, use_reentrant=False)
    assert "checkpoint" in labels


def test_labels():
    assert hook_label(save_on_cpu()) == "save_on_cpu"
    assert hook_label(saved_tensors_hooks(id, id)) == "saved_tensors_hooks"


def test_recording_restores_saved_tensors_hooks_even_after_an_error():
    enter = saved_tensors_hooks.__enter__
    with pytest.raises(RuntimeError, match="boom"), memory.record_saved_tensors():
        assert saved_tensors_hooks.__enter__ is not enter
        raise RuntimeError("boom")
    assert saved_tensors_hooks.__enter__ is enter


def test_every_pack_of_a_checkpointed_run_is_logged():
    """(A swapped run's packs: test_memory_saved_tensors.py.)"""
    ckpt = memory.saved_tensor_log(memory.checkpointed_dynamic_rnn, random_cell(), random_X(), 3)
    # Inside each chunk the checkpoint hook packs (and drops); outside it, autograd keeps.
    assert ckpt.by("packed_by")["checkpoint"] == ckpt.dropped_count > 0
