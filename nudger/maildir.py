"""Maildir on disk, shared by the inbound source and the outbound transport.

Its files hold customer mail and reply tokens: a message is written 0600 and a folder that
nudger creates is 0700, whatever the umask. A folder that exists keeps its mode (an MTA that
delivers into the inbound Maildir may need it as it is).
"""

from __future__ import annotations

import os
from pathlib import Path

from nudger.private import private_dirs


def ensure_maildir(path: Path) -> Path:
    for sub in ("tmp", "new", "cur"):
        private_dirs(path / sub)
    return path


def deliver_to_maildir(path: Path, data: bytes, name: str) -> Path:
    """Write through ``tmp/`` and rename into ``new/``; the same name replaces, never doubles."""
    ensure_maildir(path)
    tmp = path / "tmp" / name
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fd, 0o600)  # a file a crash left in tmp/ keeps its old mode through O_TRUNC
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    dst = path / "new" / name
    os.replace(tmp, dst)
    return dst
