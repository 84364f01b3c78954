"""Files that hold secrets are created private (0600), whatever the umask.

The database and the log hold every recipient's reply token (a token is the proof a reply
came from its person); under a normal umask they came out 0644, readable by every account
on the machine. SQLite gives the -wal and -shm files it makes beside a database the mode of
the database file itself, so creating that one 0600 is enough.
"""

from __future__ import annotations

import os
from pathlib import Path


def private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 unless it exists (an existing file keeps its mode: an
    admin who widened it meant to)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.fchmod(fd, 0o600)
    os.close(fd)
