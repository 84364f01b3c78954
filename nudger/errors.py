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


_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EIO, errno.EDQUOT, errno.EACCES, errno.EPERM})


def storage_failure(exc: BaseException) -> StorageFailure | None:
    """The StorageFailure ``exc`` stands for, or None when it is not one (a bug, a bad message).

    SQLite's operational errors (disk full, read-only file, I/O error, locked past the busy
    timeout) count; an integrity or data error is our code's or the message's, not the disk's.
    """
    import sqlite3

    if isinstance(exc, StorageFailure):
        return exc
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
