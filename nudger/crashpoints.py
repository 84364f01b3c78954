"""Named points where a run may die, so tests can kill a real process exactly there.

Does nothing unless ``NUDGER_CRASH_AT`` names the point; then the process is killed with
SIGKILL (no cleanup, no flush), like a power cut.
"""

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("NUDGER_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
