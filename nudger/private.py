"""Files that hold secrets are created private (0600), and folders for them 0700, whatever
the umask.

The database and the log hold every recipient's reply token (a token is the proof a reply
came from its person); under a normal umask they came out 0644, readable by every account
on the machine. SQLite gives the -wal and -shm files it makes beside a database the mode of
the database file itself, so creating that one 0600 is enough.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def adopt(path: Path | str, fd: int | None = None) -> None:
    """Run as root, give what nudger just created to the owner of the folder it is in.

    `nudger doctor` or `init` run as root (or by a root cron) would otherwise leave the
    database, the key file, the log or a Maildir folder owned by root in a workspace that
    belongs to the user cron runs nudger as, who then cannot open them. Each path created
    takes its folder's owner and group, so a folder nudger creates passes it on to what it
    creates inside. Not as root, or in a folder of root's: nothing to do.
    """
    if os.geteuid() != 0:
        return
    try:
        folder = os.stat(os.path.dirname(os.path.abspath(path)))
        if folder.st_uid == 0:
            return
        if fd is not None:
            os.fchown(fd, folder.st_uid, folder.st_gid)
        else:
            os.chown(path, folder.st_uid, folder.st_gid, follow_symlinks=False)
    except OSError:  # a file system without owners, or root without CAP_CHOWN: left as made
        pass


def private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 unless it exists (an existing file keeps its mode: an
    admin who widened it meant to)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.fchmod(fd, 0o600)
    adopt(path, fd)
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
        adopt(folder)


def trusted(fd: int, where: Path, log: logging.Logger) -> bool:
    """Whether a file of ours that holds code or a pickle (the config and template caches)
    may be loaded: it belongs to the user running nudger and nobody else may write it. Root
    trusts only its own and passes over the workspace owner's (see ``adopt``) quietly;
    anyone else is told why a file was not used."""
    st = os.fstat(fd)
    if st.st_uid != os.getuid() and os.geteuid() == 0:
        return False
    if st.st_uid != os.getuid() or st.st_mode & 0o022:
        log.warning("%s: not used: it must belong to you and be writable by you only", where)
        return False
    return True


def open_private(where: Path) -> BinaryIO:
    """Open one of our files for reading without following a symlink in its place: a
    workspace owner must not make a root run read some other file as ours (``trusted`` then
    checks the file itself). A symlink there is an OSError (ELOOP), as a missing file is."""
    return os.fdopen(os.open(where, os.O_RDONLY | os.O_NOFOLLOW), "rb")


def replace_private(where: Path, write: Callable[[BinaryIO], None], log: logging.Logger) -> bool:
    """Write one of our cache files whole or not at all: ``write`` fills a fresh 0600 temp
    file beside it (given the folder owner's, see ``adopt``), which then replaces it
    atomically, so a reader sees the old file or the new one, never a torn one. The temp file
    has a name nobody can guess and is created exclusively, never through a symlink someone
    put there: a root run would otherwise truncate and hand over whatever it points at. A
    folder nudger cannot write just means no cache: False, said at debug level only. Any
    other failure of ``write`` takes its temp file with it and is raised."""
    import tempfile

    try:
        fd, name = tempfile.mkstemp(dir=where.parent, prefix=f".{where.name}.", suffix=".tmp")
    except OSError as exc:
        log.debug("%s: not written: %s", where, exc)
        return False
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            adopt(tmp, fd)
            write(f)
        os.replace(tmp, where)
        return True
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if not isinstance(exc, OSError):
            raise
        log.debug("%s: not written: %s", where, exc)
        return False
