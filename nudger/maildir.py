"""Maildir on disk, shared by the inbound source and the outbound transport.

Its files hold customer mail and reply tokens: a message is written 0600 and a folder that
nudger creates is 0700, whatever the umask. A folder that exists keeps its mode (an MTA that
delivers into the inbound Maildir may need it as it is).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from nudger.errors import ConfigError
from nudger.private import adopt, private_dirs

SUBFOLDERS = ("tmp", "new", "cur")


def ensure_maildir(path: Path) -> Path:
    for sub in SUBFOLDERS:
        private_dirs(path / sub)
    return path


def deliver_to_maildir(path: Path, data: bytes, name: str) -> Path:
    """Write through ``tmp/`` and rename into ``new/``; the same name replaces, never doubles."""
    ensure_maildir(path)
    tmp = path / "tmp" / name
    # A file a crash left in tmp/ goes first, and the new one is created exclusively, never
    # through a symlink someone put there (a root run would truncate and give away its target):
    # one that appears in between is an OSError, and the email is tried again later.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fd, 0o600)  # whatever the umask
        adopt(tmp, fd)
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    dst = path / "new" / name
    os.replace(tmp, dst)
    return dst


def denied_maildir(path: Path, role: str, uses: dict[str, tuple[bool, bool, str]]) -> ConfigError | None:
    """Why this process may not use the Maildir at ``path`` as ``uses`` says, or None.

    ``uses`` maps a subfolder to (list it, write in it, why): the inbound source lists and moves
    out of ``new/`` and moves into ``cur/``; the outbound transport writes in ``tmp/`` and
    renames into ``new/``. Missing subfolders must be creatable (``ensure_maildir``).
    """
    from nudger.permissions import denied_folder

    path = Path(path)
    if not all(os.path.isdir(path / sub) for sub in SUBFOLDERS):
        made = denied_folder(path, role, write=True, why="nudger creates its missing tmp/, new/ or cur/",
                             maildir=True)
        if made is not None:
            return made
    for sub, (read, write, why) in uses.items():
        denied = denied_folder(path / sub, f"{role} folder", read=read, write=write, why=why)
        if denied is not None:
            return denied
    return None

