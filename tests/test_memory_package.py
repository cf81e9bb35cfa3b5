"""Tests of ``companion.memory`` as a package: the names chapters 5-7 call.

Each concept lives in its own module; ``from companion import memory`` still
reaches every public name, each defined in exactly one module.
"""

from __future__ import annotations

from companion import memory
from companion.memory import checkpointing, flops, measure, saved_tensors

MODULES = (saved_tensors, checkpointing, flops, measure)


def test_every_public_name_comes_from_exactly_one_module():
    owners = {name: m for m in MODULES for name in m.__all__}
    assert sorted(owners) == sorted(memory.__all__)
    assert sum(len(m.__all__) for m in MODULES) == len(memory.__all__)
    for name, module in owners.items():
        assert getattr(memory, name) is getattr(module, name)
