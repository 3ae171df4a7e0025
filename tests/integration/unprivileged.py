"""Run the CLI in a subprocess that file permissions bind, even when the tests run as root (as CI does)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534
# root keeps its uid (so it can still read the interpreter and the project wherever they are) but loses the
# capabilities that let it write past file modes
DROPPED = "--bounding-set=-dac_override,-dac_read_search,-fowner,-linux_immutable"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "QUANTDESK_"))}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_STATE_HOME=str(home / "state"),
               XDG_CACHE_HOME=str(home / "cache"), XDG_CONFIG_HOME=str(home / "config"),
               PYTHONPATH=os.pathsep.join([str(ROOT), *sys.path[1:]]))
    return env


def how_permissions_bind() -> str | None:
    """How a subprocess is made subject to file modes: "self" (not root), "setpriv" (root without its override
    capabilities), "nobody" (runs as user 65534); None when none of them can run the interpreter here."""
    if os.geteuid() != 0:
        return "self"
    if shutil.which("setpriv") and _probe([shutil.which("setpriv") or "setpriv", DROPPED]):
        return "setpriv"
    if _probe([], user=NOBODY):
        return "nobody"
    return None


def _probe(prefix: list[str], user: int | None = None) -> bool:
    try:
        r = subprocess.run([*prefix, sys.executable, "-c", "import app.bootstrap.cli"], capture_output=True,
                           env=_env(Path("/tmp")), timeout=120, user=user, group=user,
                           extra_groups=[] if user is not None else None)
    except OSError:
        return False
    return r.returncode == 0


def run_cli(how: str, home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGV` under file permissions; `home` (HOME and the XDG dirs) must be writable for it."""
    return run_python(how, home, "-m", "app", *argv)


def run_python(how: str, home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """`python ARGV` under file permissions, as `run_cli`."""
    cmd = [sys.executable, *argv]
    user: int | None = None
    if how == "setpriv":
        cmd = [shutil.which("setpriv") or "setpriv", DROPPED, *cmd]
    elif how == "nobody":
        user = NOBODY
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(home), timeout=300, cwd=home,
                          user=user, group=user, extra_groups=[] if user is not None else None)
