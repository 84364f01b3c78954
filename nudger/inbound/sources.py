"""Where inbound mail comes from: a Maildir, or one message on stdin from an MTA pipe.

A source yields ``RawMessage``s in a stable order and is told ``acknowledge(key)`` only after
the message's database commit, so a crash in between re-reads it and dedupe skips it.

Lifecycle: a command opens a source with ``with`` and it is closed when the command ends,
even on error. Making one connects to nothing: a remote source (IMAP) should connect on the
first ``fetch`` so that a server that is down fails the fetch stage, which the run reports
while it still delivers, and let ``close()`` end the session. The local sources here hold
nothing between calls, so their ``close()`` has nothing to do.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, Self

from nudger.errors import ConfigError
from nudger.lifecycle import Closing
from nudger.maildir import denied_maildir, ensure_maildir
from nudger.private import adopt


@dataclass(frozen=True)
class RawMessage:
    key: str  # stable within its source: a Maildir file name, "stdin", an IMAP UID
    data: bytes
    # When the message reached us (aware, UTC): a Maildir file's delivery time, later IMAP's
    # INTERNALDATE. None when the source can't tell (stdin, a file): the run's clock stands in.
    arrived: datetime | None = None


class InboundSource(Protocol):
    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def close(self) -> None: ...

    def fetch(self) -> Iterator[RawMessage]: ...

    def acknowledge(self, key: str, quarantined: bool = False) -> None:
        """After the commit: mark the message processed (or, when ``quarantined``, set it aside)."""
        ...


def _flags(name: str) -> str:
    return name.rpartition(":2,")[2] if ":2," in name else ""


CUR_STAMP = ".nudger-cur-listed"  # cur/'s mtime at the last listing that found nothing unseen


class MaildirSource(Closing):
    """Reads ``new/`` and unseen ``cur/``; a processed message moves to ``cur/`` flagged S.

    ``arrived`` is the file's mtime: a delivery writes the file in ``tmp/`` and renames it into
    ``new/`` (a rename keeps the mtime, also on the move to ``cur/``), so it is the delivery time.
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def check(self) -> None:
        """Raise ConfigError when the user running nudger may not list ``new/`` and ``cur/``
        or move messages out of one into the other: checked before any message is read, so
        none is committed and then left in ``new/`` for ever."""
        denied = denied_maildir(self.path, "the inbound Maildir", INBOUND_USES)
        if denied is not None:
            raise denied

    def pending(self) -> list[tuple[str, Path]]:
        """Unprocessed messages; a folder that can't be made or read fails here, in the fetch stage."""
        self.check()
        ensure_maildir(self.path)
        found = self._listing("new")
        cur_mtime = os.stat(self.path / "cur").st_mtime_ns
        if not self._cur_unchanged(cur_mtime):
            unseen = self._listing("cur")
            if not unseen:
                self._record_cur(cur_mtime)
            found += unseen
        # Maildir names begin with the delivery time, so name order is arrival order.
        found.sort(key=lambda item: item[0].split("/", 1)[1])
        return found

    def _listing(self, sub: str) -> list[tuple[str, Path]]:
        found = []
        for entry in os.scandir(self.path / sub):
            if entry.name.startswith(".") or not entry.is_file():
                continue
            if sub == "cur" and "S" in _flags(entry.name):
                continue
            found.append((f"{sub}/{entry.name}", Path(entry.path)))
        return found

    # Processed mail piles up in cur/ (flagged S), and listing it every run made each run
    # slower than the last (0.33 s idle at 180,000 files). cur/ is listed again only when it
    # changed (its mtime) since a listing that found nothing unseen there. A mtime is
    # recorded only when it was already two seconds old, so a change within the same clock
    # tick as the recorded one cannot pass unseen.

    def _cur_unchanged(self, mtime: int) -> bool:
        try:
            return (self.path / CUR_STAMP).read_text().strip() == str(mtime)
        except (OSError, ValueError):
            return False

    def _record_cur(self, mtime: int) -> None:
        if time.time_ns() - mtime <= 2_000_000_000:
            return
        stamp = self.path / CUR_STAMP
        try:
            tmp = stamp.with_name(stamp.name + ".tmp")
            tmp.write_text(str(mtime))
            adopt(tmp)
            os.replace(tmp, stamp)
        except OSError:  # a read-only Maildir: cur/ is listed every run, as before
            pass

    def fetch(self) -> Iterator[RawMessage]:
        """Every pending message that can be read; then, if some could not (the MTA left them
        unreadable to us), a ConfigError naming the first: the others are not held up by it."""
        unreadable: list[Path] = []
        for key, path in self.pending():
            try:
                with open(path, "rb") as fh:  # stat what was opened: a rename can't race us
                    mtime = os.fstat(fh.fileno()).st_mtime
                    data = fh.read()
            except FileNotFoundError:  # taken by a concurrent reader; it is theirs now
                continue
            except PermissionError:
                unreadable.append(path)
                continue
            yield RawMessage(key, data, datetime.fromtimestamp(mtime, UTC))
        if unreadable:
            raise unreadable_messages(unreadable)

    def unreadable(self) -> list[Path]:
        """Pending messages this process may not read (for `doctor`)."""
        return [path for _key, path in self.pending() if not os.access(path, os.R_OK)]

    def acknowledge(self, key: str, quarantined: bool = False) -> None:
        """Quarantined or not, a message moves to ``cur/`` flagged S: `nudger quarantine` lists it."""
        sub, _, name = key.partition("/")
        src = self.path / sub / name
        base = name.split(":2,", 1)[0]
        flags = "".join(sorted(set(_flags(name)) | {"S"}))
        dst = self.path / "cur" / f"{base}:2,{flags}"
        try:
            os.replace(src, dst)
        except FileNotFoundError:
            pass


# What the inbound source does in each Maildir subfolder: (list it, write in it, why).
INBOUND_USES = {
    "new": (True, True, "new mail is read there and moved out to cur/"),
    "cur": (True, True, "read mail is moved there, flagged S"),
}


def unreadable_messages(paths: list[Path]) -> ConfigError:
    """The error for pending messages we may not read: whoever delivers them (the MTA, a
    fetchmail) must leave them readable by the user nudger runs as."""
    from nudger.permissions import denied_file

    first = denied_file(paths[0], "the inbound message")
    more = f" ({len(paths) - 1} more like it)" if len(paths) > 1 else ""
    if first is None:  # readable again by now
        return ConfigError(f"inbound message {paths[0]}{more} could not be read")
    return ConfigError(f"{first}{more}; it stays in the Maildir, unread", fix=(
        f"{first.fix}; and have whatever delivers into the Maildir leave its files readable by that user"))


class StdinSource(Closing):
    """One message from an MTA pipe; acknowledging is the exit status, so nothing to do.

    ``arrived`` is None: the MTA runs us as it delivers, so the run's clock is the arrival.
    """

    def __init__(self, data: bytes | None = None):
        self._data = data

    def fetch(self) -> Iterator[RawMessage]:
        data = self._data if self._data is not None else sys.stdin.buffer.read()
        yield RawMessage("stdin", data)

    def acknowledge(self, key: str, quarantined: bool = False) -> None:
        return None


class FileSource(StdinSource):
    """One message from a file (``nudger ingest FILE``); the file is left where it is.

    ``arrived`` is None too: a saved file's mtime says when it was saved, not when it arrived.
    """

    def __init__(self, path: Path):
        super().__init__(Path(path).read_bytes())
        self.key = str(path)

    def fetch(self) -> Iterator[RawMessage]:
        yield RawMessage(self.key, self._data or b"")
