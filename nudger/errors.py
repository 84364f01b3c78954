"""The exception tree. Each class carries its exit code; only the CLI turns them into words."""

import errno
import os


class NudgerError(Exception):
    """Base of every error nudger raises on purpose. ``fix`` says what to do about it, when
    that is known: the CLI prints it after the message, and ``doctor`` prints the same words,
    so what doctor predicts is what the run says."""

    exit_code = 1

    def __init__(self, *args: object, fix: str = ""):
        super().__init__(*args)
        self.fix = fix

    def told(self) -> str:
        """The message with its fix, as one line."""
        return f"{self}; fix: {self.fix}" if self.fix else str(self)


class ConfigError(NudgerError):
    """The configuration is missing, malformed or names something that does not exist."""

    exit_code = getattr(os, "EX_CONFIG", 78)


class TemporaryFailure(NudgerError):
    """Try again later: a mailbox or relay is unreachable, or the database stays locked."""

    exit_code = getattr(os, "EX_TEMPFAIL", 75)


class StorageFailure(TemporaryFailure):
    """Our own database or disk refused a write (full, read-only, failing): never the message's
    fault, so it stays at its source and the exit status asks for a retry."""


class DamagedDatabase(ConfigError):
    """The database file is not a SQLite database, or SQLite finds it corrupt: no retry mends
    it, so it is a setup fault (exit 78) to fix by hand; nudger never deletes the file."""

    def __init__(self, path: object, detail: str):
        super().__init__(
            f"the database {path} is damaged or is not a nudger database ({detail}): no run can use it, "
            "and nudger leaves it as it is",
            fix=(f"restore {path} from your backup (then run `nudger doctor`), or move it aside to start "
                 f"afresh with an empty database: mv {path} {path}.damaged (and its -wal and -shm files, "
                 "if any, with it); nudger never deletes it"))


# SQLITE_CORRUPT (11) and SQLITE_NOTADB (26): the file itself is bad, not the disk or a lock.
_DAMAGED_CODES = frozenset({11, 26})


def database_damage(exc: BaseException) -> str | None:
    """SQLite's words when ``exc`` says the database file is corrupt or not a database, else None."""
    import sqlite3

    if isinstance(exc, sqlite3.DatabaseError) and (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _DAMAGED_CODES:
        return str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and str(exc) in ("file is not a database",
                                                              "database disk image is malformed"):
        return str(exc)
    return None


_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EIO, errno.EDQUOT, errno.EACCES, errno.EPERM})


def storage_failure(exc: BaseException) -> StorageFailure | None:
    """The StorageFailure ``exc`` stands for, or None when it is not one (a bug, a bad message).

    SQLite's operational errors (disk full, read-only file, I/O error, locked past the busy
    timeout) count; an integrity or data error is our code's or the message's, not the disk's.
    """
    import sqlite3

    if isinstance(exc, StorageFailure):
        return exc
    if database_damage(exc) is not None:  # no retry mends a corrupt file: DamagedDatabase, 78
        return None
    if isinstance(exc, sqlite3.OperationalError):
        return StorageFailure(f"the database refused a write: {exc}")
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
            exc, sqlite3.IntegrityError | sqlite3.DataError | sqlite3.ProgrammingError | sqlite3.InterfaceError):
        return StorageFailure(f"the database failed: {exc}")
    if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
        return StorageFailure(f"storage failed: {exc}")
    return None


class MessageError(NudgerError):
    """An inbound message cannot be read at all; it goes to quarantine with this reason."""
