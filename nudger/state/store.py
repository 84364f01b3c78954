"""All SQL lives here. Each public write is one transaction; names say what happened."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from nudger.errors import TemporaryFailure
from nudger.state.migrations import migrations

BUSY_TIMEOUT_MS = 10_000
HANDOFF_STATES = ("open", "acknowledged", "blocked", "done", "cancelled")


def iso(dt: datetime) -> str:
    """Timestamps are stored as ISO 8601 in UTC so that text order is time order."""
    from datetime import UTC

    return dt.astimezone(UTC).isoformat(timespec="seconds")


class Store:
    """nudger's state in one SQLite file: WAL, a busy timeout, migrations applied on open."""

    def __init__(self, db: Database):
        self.db = db

    @classmethod
    def open(cls, path: Path | str, *, migrate: bool = True) -> Store:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db = Database(conn)
            if str(path) != ":memory:":
                db.enable_wal()
            conn.execute("PRAGMA foreign_keys = ON")
            if migrate:
                migrations.apply(db)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise TemporaryFailure(f"database {path} is busy: {exc}") from exc
            raise
        return cls(db)

    def close(self) -> None:
        self.db.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """BEGIN IMMEDIATE: take the write lock up front so two writers never deadlock."""
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield self
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TemporaryFailure(f"database is busy: {exc}") from exc
        try:
            yield self
        except BaseException:
            self.db.rollback()
            raise
        else:
            conn.execute("COMMIT")

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

    # --- inbound -----------------------------------------------------------

    def inbound_seen(self, dedupe_key: str) -> dict[str, Any] | None:
        return self._one("select * from inbound where dedupe_key = ?", [dedupe_key])

    def record_redelivery(self, dedupe_key: str) -> None:
        with self.transaction():
            self.db.conn.execute(
                "update inbound set deliveries = deliveries + 1 where dedupe_key = ?", [dedupe_key]
            )

    def record_inbound(self, row: dict[str, Any]) -> int:
        row = dict(row)
        if isinstance(row.get("reasons"), list):
            row["reasons"] = json.dumps(row["reasons"])
        return self._insert("inbound", row, or_ignore=True)

    # --- handoffs and events -------------------------------------------------

    def insert_handoff(self, row: dict[str, Any]) -> int:
        return self._insert("handoffs", _encode(row))

    def update_handoff(self, handoff_id: int, changes: dict[str, Any]) -> None:
        if changes:
            self._update("handoffs", handoff_id, _encode(changes))

    def handoff(self, handoff_id: int) -> dict[str, Any] | None:
        row = self._one("select * from handoffs where id = ?", [handoff_id])
        return _decode(row) if row else None

    def handoff_by_root(self, message_ids: list[str]) -> dict[str, Any] | None:
        if not message_ids:
            return None
        marks = ",".join("?" * len(message_ids))
        row = self._one(
            f"select h.* from handoffs h where h.root_message_id in ({marks}) "
            f"union select h.* from handoffs h join outbox o on o.handoff_id = h.id "
            f"where o.message_id in ({marks}) limit 1",
            [*message_ids, *message_ids],
        )
        return _decode(row) if row else None

    def handoffs(self, status: str | None = None) -> list[dict[str, Any]]:
        if status:
            rows = self._rows("select * from handoffs where status = ? order by id", [status])
        else:
            rows = self._rows("select * from handoffs order by id")
        return [_decode(r) for r in rows]

    def add_event(
        self, handoff_id: int, at: datetime, kind: str, actor: str | None, data: dict | None = None
    ) -> int:
        return self._insert(
            "events",
            {"handoff_id": handoff_id, "at": iso(at), "kind": kind, "actor": actor,
             "data": json.dumps(data or {})},
        )

    def events(self, handoff_id: int) -> list[dict[str, Any]]:
        rows = self._rows("select * from events where handoff_id = ? order by id", [handoff_id])
        return [{**r, "data": json.loads(r["data"] or "{}")} for r in rows]

    # --- outbox --------------------------------------------------------------

    def enqueue(self, row: dict[str, Any]) -> bool:
        """Insert one outgoing message unless its dedupe key is already there."""
        cur = self.db.conn.execute(
            "insert or ignore into outbox (dedupe_key, kind, handoff_id, recipient, message_id,"
            " subject, raw, status, send_after, attempts, created)"
            " values (?, ?, ?, ?, ?, ?, ?, 'queued', ?, 0, ?)",
            [
                row["dedupe_key"],
                row["kind"],
                row.get("handoff_id"),
                row["recipient"],
                row["message_id"],
                row["subject"],
                row["raw"],
                row["send_after"],
                row["created"],
            ],
        )
        return cur.rowcount == 1

    def outbox_due(self, now: datetime, limit: int = 1000) -> list[dict[str, Any]]:
        return self._rows(
            "select * from outbox where status = 'queued' and send_after <= ?"
            " order by send_after, id limit ?",
            [iso(now), limit],
        )

    def mark_sending(self, ids: list[int]) -> None:
        with self.transaction():
            marks = ",".join("?" * len(ids))
            self.db.conn.execute(
                f"update outbox set status = 'sending', attempts = attempts + 1 where id in ({marks})",
                ids,
            )

    def mark_sent(self, outbox_id: int, at: datetime, answer: str = "") -> None:
        with self.transaction():
            self.db.conn.execute(
                "update outbox set status = 'sent', sent = ?, last_error = ? where id = ?",
                [iso(at), answer or None, outbox_id],
            )

    def mark_retry(self, outbox_id: int, next_at: datetime, error: str) -> None:
        with self.transaction():
            self.db.conn.execute(
                "update outbox set status = 'queued', send_after = ?, last_error = ? where id = ?",
                [iso(next_at), error, outbox_id],
            )

    def mark_dead(self, outbox_id: int, error: str) -> None:
        with self.transaction():
            self.db.conn.execute(
                "update outbox set status = 'dead', last_error = ? where id = ?", [error, outbox_id]
            )

    def recover_sending(self) -> int:
        """Rows a killed run left in 'sending' go back to the queue, same Message-ID."""
        with self.transaction():
            cur = self.db.conn.execute("update outbox set status = 'queued' where status = 'sending'")
        return cur.rowcount

    def outbox(self, statuses: tuple[str, ...] = ("queued", "sending", "dead")) -> list[dict]:
        marks = ",".join("?" * len(statuses))
        return self._rows(
            f"select id, kind, handoff_id, recipient, subject, status, send_after, attempts,"
            f" sent, last_error from outbox where status in ({marks}) order by id",
            list(statuses),
        )

    def outbox_for_handoff(self, handoff_id: int) -> list[dict[str, Any]]:
        return self._rows(
            "select id, kind, recipient, subject, status, send_after, sent from outbox"
            " where handoff_id = ? order by id",
            [handoff_id],
        )

    # --- quarantine ------------------------------------------------------------

    def quarantine(self, raw: bytes, reason: str, detail: str, source_key: str, at: datetime) -> int:
        with self.transaction():
            return self._insert(
                "quarantine",
                {"at": iso(at), "reason": reason, "detail": detail, "source_key": source_key,
                 "raw": raw, "status": "held"},
            )

    def quarantined(self) -> list[dict[str, Any]]:
        return self._rows(
            "select id, at, reason, source_key, status, length(raw) as size from quarantine order by id"
        )

    # --- people and teams --------------------------------------------------------

    def digest_choice(self, email: str) -> str | None:
        row = self._one("select digest from people where email = ?", [email.lower()])
        return row["digest"] if row else None

    def set_digest_choice(self, email: str, digest: str, at: datetime) -> None:
        self.db.conn.execute(
            "insert into people (email, digest, updated) values (?, ?, ?) on conflict(email)"
            " do update set digest = excluded.digest, updated = excluded.updated",
            [email.lower(), digest, iso(at)],
        )

    def round_robin_positions(self) -> dict[str, int]:
        return {r["team"]: int(r["position"]) for r in self._rows("select team, position from team_cursors")}

    def set_round_robin_position(self, team: str, position: int) -> None:
        self.db.conn.execute(
            "insert into team_cursors (team, position) values (?, ?) on conflict(team)"
            " do update set position = excluded.position",
            [team, position],
        )

    # --- runs and status -----------------------------------------------------------

    def start_run(self, started: datetime, now: datetime) -> int:
        with self.transaction():
            return self._insert("runs", {"started": iso(started), "now": iso(now)})

    def finish_run(self, run_id: int, finished: datetime, summary: dict[str, Any]) -> None:
        with self.transaction():
            self._update("runs", run_id, {"finished": iso(finished), "summary": json.dumps(summary)})

    def status_counts(self) -> dict[str, Any]:
        def counts(sql: str) -> dict[str, int]:
            return {r["k"]: r["n"] for r in self._rows(sql)}

        last = self._one("select * from runs where finished is not null order by id desc limit 1")
        handoffs = counts("select status as k, count(*) as n from handoffs group by status")
        outbox = counts("select status as k, count(*) as n from outbox group by status")
        return {
            "handoffs": {s: handoffs.get(s, 0) for s in HANDOFF_STATES},
            "outbox": {"queued": outbox.get("queued", 0), "sending": outbox.get("sending", 0),
                       "sent": outbox.get("sent", 0), "failed": outbox.get("dead", 0)},
            "inbound": counts("select kind as k, count(*) as n from inbound group by kind"),
            "quarantine": counts("select status as k, count(*) as n from quarantine group by status"),
            "last_run": (
                {"finished": last["finished"], "now": last["now"], **json.loads(last["summary"] or "{}")}
                if last
                else None
            ),
        }


_JSON_FIELDS = ("watchers", "forwarded")


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in _JSON_FIELDS:
        if key in out and not isinstance(out[key], str) and out[key] is not None:
            out[key] = json.dumps(out[key])
    if "rush" in out and out["rush"] is not None:
        out["rush"] = int(bool(out["rush"]))
    return out


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["watchers"] = json.loads(out.get("watchers") or "[]")
    out["forwarded"] = json.loads(out["forwarded"]) if out.get("forwarded") else None
    out["rush"] = bool(out.get("rush"))
    return out
