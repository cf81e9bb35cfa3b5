"""Fixtures shared by the ``companion`` tests.

Hypothesis profiles (choose with ``HYPOTHESIS_PROFILE``):

* ``ci`` (default) -- few, derandomized examples so ``make test`` is fast and
  reproducible on a 2-core machine;
* ``dev`` -- many random examples, for hunting bugs locally.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings
from strategies import Backend

settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=["numpy", "torch"], scope="module")
def backend(request) -> Backend:
    """Each test using it runs once per backend.

    Module-scoped because a :class:`Backend` is immutable: hypothesis refuses
    function-scoped fixtures (they would not be reset between examples).
    """
    return Backend(request.param)


@pytest.fixture
def no_tf32():
    """True float32 on CUDA: TF32 off for matmuls and cuDNN, restored afterwards."""
    import torch

    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
