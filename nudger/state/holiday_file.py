"""Holiday tables, remembered between runs beside the database.

The ``holidays`` package imports every country it knows and then works the year out: 0.18 s
of CPU, close to half of a cron run that reads one message or sends one reminder. A table
depends only on its code (``US``, ``CA-ON``), its year and the package's release, so the
tables a run worked out are kept in ``.<database name>.holidays`` (JSON: days and names)
under a key made of the package's files (their size and mtime: an upgrade rewrites them),
and a later run reads them back without importing the package. A key that does not match,
a torn or foreign file: the package works the table out again and the file is rewritten.

Trusted as the config cache is (``private.trusted``): the file is read only when it belongs
to the user running nudger and nobody else may write it (written 0600, replaced
atomically), since a forged table would move every business day.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from nudger.private import open_private, replace_private, trusted

log = logging.getLogger("nudger.calendar")

_FORMAT = "nudger holiday tables 1"
_MAX_BYTES = 4 << 20


def holiday_file(database_path: Path) -> HolidayFile | None:
    """The file beside a database with a place of its own (as ``template_cache``)."""
    if not database_path.is_absolute():
        return None
    return HolidayFile(database_path.with_name(f".{database_path.name}.holidays"))


def package_key() -> str | None:
    """The installed package's release, read from its files without importing it; None
    when it cannot be found (then nothing is kept)."""
    from importlib.util import find_spec

    try:
        spec = find_spec("holidays")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    from nudger import __version__

    folder = os.path.dirname(spec.origin)
    parts = [f"nudger {__version__}"]  # how nudger asks the package, too
    try:
        st = os.stat(spec.origin)  # its __init__.py: rewritten by any install
        parts.append(f"{st.st_size}:{st.st_mtime_ns}")
        with open(os.path.join(folder, "version.py"), "rb") as f:
            parts.append(hashlib.sha256(f.read(65536)).hexdigest()[:16])  # the release it names
    except OSError:
        pass
    return f"{folder}|{'|'.join(parts)}" if len(parts) > 1 else None


class HolidayFile:
    """A ``business_time.HolidayShelf`` in one JSON file; read once per process."""

    def __init__(self, path: Path):
        """The key and the file are read here, when the run opens (about 0.6 ms), not at the
        first calendar lookup: that comes while a message is read, under its time budget,
        whose interruption may land in the middle of opening a file."""
        self.path = path
        self._key = package_key()
        self._tables: dict[str, Any] = self._load()

    def get(self, code: str, year: int) -> dict[date, str] | None:
        """The table, or None for one not kept or not of the shape we write (days of that
        year, each with a name): a file that is JSON but not ours is worked out again."""
        table = self._tables.get(_name(code, year))
        if not isinstance(table, dict):
            return None
        try:
            days = {date.fromisoformat(day): name for day, name in table.items()}
        except (TypeError, ValueError):
            return None
        if any(d.year != year or not isinstance(name, str) or not name for d, name in days.items()):
            return None
        return days

    def put(self, code: str, year: int, table: dict[date, str]) -> None:
        if self._key is None:
            return
        tables = {**self._tables, _name(code, year): {d.isoformat(): name for d, name in sorted(table.items())}}
        # ASCII only: a name the package gives (or a file gave) can never fail to encode.
        text = json.dumps({"format": _FORMAT, "package": self._key, "tables": tables})
        def write(f: BinaryIO) -> None:
            f.write(text.encode())

        if replace_private(self.path, write, log):
            self._tables = tables

    def _load(self) -> dict[str, Any]:
        """The file's tables, unchecked (``get`` checks the one it is asked for); {} for a file
        that is missing, not trusted, torn, too big or of another release."""
        if self._key is None:
            return {}
        try:
            with open_private(self.path) as f:
                if not trusted(f.fileno(), self.path, log):
                    return {}
                data = f.read(_MAX_BYTES + 1)
                if len(data) > _MAX_BYTES:  # a few KB a country-year: this is not ours
                    return {}
                found: Any = json.loads(data)
        except FileNotFoundError:
            return {}
        except Exception as exc:  # noqa: BLE001 - torn, foreign, too deep: worked out again, rewritten
            log.debug("%s: not used: %s", self.path, exc)
            return {}
        if not isinstance(found, dict) or found.get("format") != _FORMAT or found.get("package") != self._key:
            return {}
        tables = found.get("tables")
        return tables if isinstance(tables, dict) else {}


def _name(code: str, year: int) -> str:
    return f"{code}:{year}"
