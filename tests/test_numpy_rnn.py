"""What only ``companion.numpy_rnn``, the NumPy reference of chapters 1-5, promises.

The contract it shares with ``companion.torch_rnn`` (shapes, dtypes, seeds, the step
equation, static and dynamic unrolling, ``sequence_length``, the ``torch.nn.RNN``
bridge) is tested once for both backends in ``test_rnn_contract.py``.
"""

from __future__ import annotations

import subprocess
import sys


def test_numpy_rnn_never_imports_torch():
    """CONTRIBUTING.md: a reader without PyTorch can run the NumPy chapters.

    A fresh interpreter, because this test session has imported torch already;
    ``to_torch_rnn`` and ``from_torch_rnn`` import it only when called.
    """
    code = (
        "import sys\n"
        "from companion import numpy_rnn as nr\n"
        "cell = nr.BasicRNNCell(3, 5, seed=0)\n"
        "nr.static_rnn(cell, [cell.zero_state(2)[:, :3]])\n"
        "nr.dynamic_rnn(cell, cell.zero_state(2)[:, None, :3], sequence_length=[1, 0])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"
