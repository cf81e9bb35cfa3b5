"""Tests of ``companion.sequences`` as a package: the names chapters 7 and 8 call.

Each concept lives in its own module; ``from companion import sequences as sq``
still reaches every public function, and importing the package never imports
torch (it only uses torch when it is given tensors).
"""

from __future__ import annotations

import subprocess
import sys

from companion import sequences as sq
from companion.sequences import beam, decoding, eos, losses, padding

MODULES = (padding, eos, losses, decoding, beam)


def test_every_public_name_comes_from_exactly_one_module():
    owners = {name: m for m in MODULES for name in m.__all__}
    assert sorted(owners) == sorted(sq.__all__)
    assert sum(len(m.__all__) for m in MODULES) == len(sq.__all__)
    for name, module in owners.items():
        assert getattr(sq, name) is getattr(module, name)


def test_importing_the_package_does_not_import_torch():
    code = "import sys, companion.sequences; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
