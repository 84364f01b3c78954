"""Files that hold secrets are created private (0600), and folders for them 0700, whatever
the umask.

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


def private_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents 0700 (the umask only narrows what ``mkdir``
    asks for, and ``mkdir -p`` makes parents with the default mode); folders that exist keep
    theirs."""
    if path.is_dir():
        return
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(0o700)
        except FileExistsError:  # another process made it meanwhile: theirs
            continue
        os.chmod(folder, 0o700)
