"""Run a real `nudger` process that file modes bind, so a test can make a real permission
problem (chmod 000 on a Maildir's new/, a read-only database folder) and see what `doctor`
and `run` do with it.

Root ignores mode bits through two capabilities, CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH.
As root (CI runs the tests as root), the child drops both from its bounding set before it
execs Python (prctl PR_CAPBSET_DROP), so the nudger it runs is uid 0 without them: bound by
the modes exactly as the owner of the workspace (root made it) would be. As any other user,
chmod binds already and the child is simply us. Nothing is skipped either way: a test whose
chmod did not bind would see the run succeed, and fail.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE = 1
CAP_DAC_READ_SEARCH = 2


def _without_root_file_powers() -> None:
    """In the child, before exec: without these two, root's opens obey the mode bits."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"prctl(PR_CAPBSET_DROP, {cap})")


def bound_by_modes(args: list[str], env: dict[str, str], cwd: Path,
                   input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """``args`` run as a process that file modes bind (see the module's docstring)."""
    return subprocess.run(args, env=env, cwd=cwd, input=input.decode() if input is not None else None,
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=_without_root_file_powers if os.geteuid() == 0 else None)


def nudger(ws, *args: str, env: dict[str, str] | None = None,
           input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """`nudger ARGS` on the workspace ``ws``, with its environment (``env`` replaces it)."""
    full = {**os.environ, **(ws.env if env is None else env)}
    for name in ("NUDGER_CRASH_AT", "NUDGER_STORAGE_FAULT"):
        full.pop(name, None)
    if env is not None:
        for name in set(ws.env) - set(env):
            full.pop(name, None)
    return bound_by_modes([sys.executable, "-m", "nudger", *args], full, ws.root, input)
