"""PyJWT (and the cryptography bindings it loads, ~17 MB) is loaded by a signed Upbit request, not by the desktop
that only runs the Demo simulator in-process."""

from __future__ import annotations

import subprocess
import sys


def test_the_simulator_and_the_signers_import_without_loading_pyjwt() -> None:
    code = ("import sys, infrastructure.simulator.server, infrastructure.exchanges.signing, "
            "infrastructure.simulator.private.auth; print('jwt' in sys.modules, 'cryptography' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
