"""One run at a time: a non-blocking flock on a file next to the database."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nudger.private import adopt, private_dirs


@contextmanager
def run_lock(db_path: Path) -> Iterator[bool]:
    """Yields True when this process holds the lock, False when another run does."""
    path = Path(str(db_path) + ".lock")
    try:
        private_dirs(path.parent)
        made = not path.exists()
        # Empty, but beside the database: private too. Never through a symlink put in its
        # place: a root run would create (and give away) the file it points at.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        if made:
            adopt(path, fd)
    except PermissionError as exc:  # a configuration problem (exit 78), named with its fix
        from nudger.state.access import database_denied

        raise (database_denied(db_path) or exc) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
