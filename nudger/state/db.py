"""The connection and the query helpers every part of the store shares."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Self

from nudger.errors import StorageFailure, TemporaryFailure


def iso(dt: datetime) -> str:
    """Timestamps are stored as ISO 8601 in UTC so that text order is time order."""
    return dt.astimezone(UTC).isoformat(timespec="seconds")



def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value else None



_SYNCHRONOUS = {"normal": 1, "full": 2}
_SAVEPOINTS = itertools.count(1)  # a savepoint's name only has to differ from the ones it nests in


class Connection:
    """The database connection as the store uses it: plain sqlite3, with savepoints for
    nested transactions. sqlite-utils is imported only to apply migrations."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._synchronous: int | None = None  # PRAGMA synchronous as last set (None: not read yet)

    @contextmanager
    def synchronous(self, level: str) -> Iterator[None]:
        """Commits inside wait for the disk (``full``: the WAL is synced at each commit) or not
        (``normal``: synced at checkpoints; a commit outlives the process being killed, a power
        cut may lose the last few, never leaving the file inconsistent). A commit at ``full``
        makes every commit before it durable too: the WAL is one file, synced up to its end.
        Nothing is executed when the level is already the one asked for."""
        want = _SYNCHRONOUS[level]
        if self._synchronous is None:
            self._synchronous = int(self.conn.execute("pragma synchronous").fetchone()[0])
        before = self._synchronous
        if before != want:
            self.conn.execute(f"pragma synchronous = {want}")
            self._synchronous = want
        try:
            yield
        finally:
            if before != want:
                self.conn.execute(f"pragma synchronous = {before}")
                self._synchronous = before

    @contextmanager
    def atomic(self) -> Iterator[Connection]:
        """A savepoint inside the open transaction (or a transaction of its own)."""
        if not self.conn.in_transaction:
            with self.conn:
                yield self
            return
        name = f"nudger_{next(_SAVEPOINTS)}"
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield self
        except BaseException:
            self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            self.conn.execute(f"RELEASE SAVEPOINT {name}")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def table_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("select name from sqlite_master where type = 'table'")]


class Rows:
    """The store's parts (inbound log, handoffs, outbox, schedule) share one connection."""

    def __init__(self, db: Connection):
        self.db = db

    @contextmanager
    def transaction(self) -> Iterator[Self]:
        """BEGIN IMMEDIATE: take the write lock up front so two writers never deadlock."""
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield self
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise TemporaryFailure(f"database is busy: {exc}") from exc
            raise StorageFailure(f"the database refused a write: {exc}") from exc
        try:
            yield self
        except BaseException:
            self.db.rollback()
            raise
        else:
            conn.execute("COMMIT")

    # --- handoffs and events -------------------------------------------------

    # Plain sqlite3 on the hot paths: sqlite-utils' helpers wrap each query in a savepoint
    # and re-read the schema on every insert (73 statements for one forward; now about 20).

    def _rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        cur = self.db.conn.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def _one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _insert(self, table: str, row: dict[str, Any], *, or_ignore: bool = False) -> int:
        cols = list(row)
        verb = "insert or ignore" if or_ignore else "insert"
        sql = f"{verb} into {table} ({', '.join(cols)}) values ({', '.join('?' * len(cols))})"
        return int(self.db.conn.execute(sql, [row[c] for c in cols]).lastrowid or 0)

    def _update(self, table: str, row_id: int, changes: dict[str, Any]) -> None:
        cols = list(changes)
        sets = ", ".join(f"{c} = ?" for c in cols)
        self.db.conn.execute(f"update {table} set {sets} where id = ?", [*(changes[c] for c in cols), row_id])
