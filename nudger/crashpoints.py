"""Named points where a run may die, so tests can kill a real process exactly there.

Does nothing unless ``NUDGER_CRASH_AT`` names the point; then the process is killed with
SIGKILL (no cleanup, no flush), like a power cut.
"""

import os
import signal
import sqlite3


def storage_fault(conn: sqlite3.Connection) -> None:
    """``NUDGER_STORAGE_FAULT=full|readonly``: the database refuses writes the way a nearly full
    disk (SQLITE_FULL past 4 more pages: updates fit, a message's new rows do not) or a
    read-only file (SQLITE_READONLY) does, with SQLite's own errors; neither can be made
    portably for a test otherwise (root writes to a read-only file)."""
    fault = os.environ.get("NUDGER_STORAGE_FAULT")
    if fault == "full":
        (pages,) = conn.execute("pragma page_count").fetchone()
        conn.execute(f"pragma max_page_count = {int(pages) + 4}")
    elif fault == "readonly":
        conn.execute("pragma query_only = on")


def crash_point(name: str) -> None:
    if os.environ.get("NUDGER_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
