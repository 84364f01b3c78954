"""How to run this installation's nudger again from a shell or cron, by full paths: what
`init` and `demo` print must work pasted as it is, right after the README's install, when the
virtualenv's bin/ is not on PATH (and never is on cron's)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path


def nudger_command() -> list[str]:
    """The script that is running, by its full path, else ``python -m nudger`` with this
    interpreter (not resolved: a virtualenv's python is a link that must stay the venv's)."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name.startswith("nudger") and script.suffix != ".py" and script.is_file():
        return [str(script.resolve())]
    return [sys.executable, "-m", "nudger"]


def shell_line(*args: str) -> str:
    """This nudger with ``args``, quoted for a shell (a path with a space still works)."""
    return shlex.join([*nudger_command(), *args])
