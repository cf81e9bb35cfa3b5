"""Seeing the saved tensors that ``save_on_cpu`` and ``checkpoint`` pack.

Used by :mod:`companion.memory.saved_tensors` (chapters 5 and 6); not taught
by itself. It is the one place in ``companion`` that patches PyTorch, and it
does so only inside a ``with`` block.

Why a patch is needed
---------------------
Chapter 6 counts what ``dynamic_rnn(..., swap_memory=True)`` (which opens
``torch.autograd.graph.save_on_cpu``) and ``torch.utils.checkpoint`` keep for
the backward pass. Both work by opening their own
``torch.autograd.graph.saved_tensors_hooks`` context, and PyTorch applies
only the *innermost* pair of hooks: a recording hook opened outside them sees
nothing of what they pack, and there is no public API to observe every pack
(the global hook stack is ``torch._C._autograd._push_saved_tensors_default_hooks``,
private too). So while a recording is active, :func:`spy_on_nested_hooks`
replaces ``saved_tensors_hooks.__enter__`` by a wrapper that hands the
context's ``pack_hook`` to a spy first.

What it relies on
-----------------
No private name, but three implementation details of the public class
``torch.autograd.graph.saved_tensors_hooks`` (torch 2.x):

1. ``__enter__`` pushes ``self.pack_hook``, read when the context is entered;
2. neither ``save_on_cpu`` nor the hook classes of ``torch.utils.checkpoint``
   override ``__enter__``;
3. those checkpoint classes are defined in the module ``torch.utils.checkpoint``
   (that is how their packs are labelled ``"checkpoint"``).

``tests/test_memory_nested_hooks.py`` checks all three, so a torch release
that changes them fails the tests rather than silently logging nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from torch.autograd.graph import save_on_cpu, saved_tensors_hooks

# (pack_hook, label) -> the pack hook to use instead, which logs and then delegates.
Spy = Callable[[Callable[[Any], Any], str], Callable[[Any], Any]]


def hook_label(hooks: saved_tensors_hooks) -> str:
    """``"save_on_cpu"``, ``"checkpoint"``, or the class name of any other hook context."""
    if isinstance(hooks, save_on_cpu):
        return "save_on_cpu"
    if type(hooks).__module__ == "torch.utils.checkpoint":
        return "checkpoint"
    return type(hooks).__name__


@contextlib.contextmanager
def spy_on_nested_hooks(spy: Spy) -> Iterator[None]:
    """Inside the block, every ``saved_tensors_hooks`` context entered packs through ``spy``.

    ``spy(pack_hook, label)`` returns the pack hook actually pushed; the
    context's own ``pack_hook`` attribute is restored at once, and
    ``saved_tensors_hooks.__enter__`` when the block ends, even after an
    error. Not thread-safe: do not record from two threads at once.
    """
    original_enter = saved_tensors_hooks.__enter__

    def spying_enter(self: saved_tensors_hooks) -> None:
        inner = self.pack_hook
        self.pack_hook = spy(inner, hook_label(self))
        try:
            original_enter(self)
        finally:
            self.pack_hook = inner

    saved_tensors_hooks.__enter__ = spying_enter
    try:
        yield
    finally:
        saved_tensors_hooks.__enter__ = original_enter
