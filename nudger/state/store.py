"""nudger's state in one SQLite file. Each public write is one transaction; names say what
happened. The parts live in their own modules (inbound_log, handoff_rows, outbox,
schedule_rows); ``Store`` joins them on one connection and owns the writes that span them."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nudger.core.message_ids import root_message_id
from nudger.core.records import HANDOFF_STATES, Handoff
from nudger.crashpoints import storage_fault
from nudger.errors import DamagedDatabase, TemporaryFailure, database_damage
from nudger.private import private_dirs, private_file
from nudger.state.db import Connection, iso
from nudger.state.handoff_rows import HandoffRows, _handoff_row
from nudger.state.inbound_log import AlreadyRecorded, InboundCheck, InboundLog, InboundRecord, Quarantined, Received
from nudger.state.outbox import OutboxRows
from nudger.state.schedule_rows import ScheduleRows
from nudger.state.schema import is_current, mark_current

if TYPE_CHECKING:
    from nudger.core.handoffs import Outcome

__all__ = ["AlreadyRecorded", "InboundCheck", "InboundRecord", "Quarantined", "Received", "Store", "iso"]

BUSY_TIMEOUT_MS = 10_000


class Store(InboundLog, HandoffRows, OutboxRows, ScheduleRows):
    """nudger's state in one SQLite file: WAL, a busy timeout, migrations applied on open."""

    @classmethod
    def open(cls, path: Path | str, *, migrate: bool = True) -> Store:
        path = Path(path)
        if str(path) != ":memory:":
            from nudger.state.access import database_denied

            denied = database_denied(path)  # a folder cron's user may not write: exit 78, not 75
            if denied is not None:
                raise denied
            private_dirs(path.parent)
            private_file(path)  # before SQLite creates it: 0600, and so are its -wal and -shm
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if str(path) != ":memory:" and conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = wal")
            conn.execute("PRAGMA foreign_keys = ON")
            if migrate and not is_current(conn):
                from sqlite_utils import Database

                from nudger.state.migrations import migrations

                migrations.apply(Database(conn))
                mark_current(conn)
            storage_fault(conn)
        except sqlite3.OperationalError as exc:
            conn.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise TemporaryFailure(f"database {path} is busy: {exc}") from exc
            raise
        except sqlite3.DatabaseError as exc:
            conn.close()
            if (damage := database_damage(exc)) is not None:
                raise DamagedDatabase(path, damage) from None
            raise
        return cls(Connection(conn))

    def close(self) -> None:
        self.db.conn.close()

    def apply(self, outcome: Outcome, *, actor: str | None, at: datetime, recorded: datetime,
              domain: str, source_raw: bytes | None = None) -> Handoff:
        """Write what one message did to one handoff: the new row or its changes, its events,
        the round-robin cursor and a digest choice. In the caller's transaction; returns the
        handoff as saved (with its number, for a new one)."""
        after = outcome.after
        if outcome.before is None:
            row = _handoff_row(after)
            row.pop("id")
            hid = self._insert("handoffs", row)
            if source_raw is not None:  # apart from the row (m015): its updates stay small
                self.db.conn.execute("insert into handoff_sources (id, raw) values (?, ?)", [hid, source_raw])
            root = root_message_id(hid, iso(after.created), domain)
            self.db.conn.execute("update handoffs set root_message_id = ? where id = ?", [root, hid])
            after = after.changed(id=hid, root_message_id=root)
        elif changes := outcome.changes:
            self._update("handoffs", after.id, _handoff_row(after, only=changes))
        # A history never runs backwards: an event is not dated before the one it follows
        # (a new handoff has none to follow).
        last = None if outcome.before is None else self._one(
            "select max(at) as at from events where handoff_id = ?", [after.id])
        floor = datetime.fromisoformat(last["at"]) if last and last["at"] else at
        when, stamp = iso(max(at, floor)), iso(recorded)
        self.db.conn.executemany(
            "insert into events (handoff_id, at, recorded, kind, actor, data, words, status, owner, team, due,"
            " priority, rush) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(after.id, when, stamp, event.kind, event.actor or actor, json.dumps(dict(event.data), default=str),
              event.words or None, s.status, s.owner, s.team, s.due.isoformat() if s.due else None, s.priority,
              int(s.rush)) for event in outcome.events for s in [event.state]])
        subjects = [f"h:{after.id}"]  # the schedule reads this handoff again, this run
        if outcome.before is None or after.status == "done":
            subjects.append(f"p:{after.requester}")  # digests and the appreciation prompt
        self.touch(*subjects)
        if outcome.cursor:
            self.set_round_robin_position(*outcome.cursor)
        if outcome.digest_choice and actor:
            self.set_digest_choice(actor, outcome.digest_choice, at)
        return after

    def next_work_at(self) -> datetime | None:
        """The next moment a run has work: a schedule slot falls due or held mail may go."""
        found = self.db.conn.execute(
            "select min(t) from (select min(next_at) as t from schedule where next_at > ''"
            " union all select min(send_after) from outbox where status = 'queued')").fetchone()[0]
        return datetime.fromisoformat(found) if found else None

    # --- runs and status -----------------------------------------------------------

    def record_run(self, started: datetime, now: datetime, finished: datetime, summary: dict[str, Any]) -> int:
        """The run's record (``status`` shows the last), written once when it ends, without
        waiting for the disk: it is a record of the work, which its own commits keep."""
        with self.db.synchronous("normal"), self.transaction():
            return self._insert("runs", {"started": iso(started), "now": iso(now), "finished": iso(finished),
                                         "summary": json.dumps(summary)})

    def status_counts(self) -> dict[str, Any]:
        def counts(sql: str) -> dict[str, int]:
            return {r["k"]: r["n"] for r in self._rows(sql)}

        last = self._one("select finished, now, summary from runs where finished is not null order by id desc limit 1")
        handoffs = counts("select status as k, count(*) as n from handoffs group by status")
        outbox = counts("select status as k, count(*) as n from outbox group by status")
        inbound = self.inbound_tally()
        last_refused = self.received_messages(refused_only=True, limit=1)
        return {
            "handoffs": {s: handoffs.get(s, 0) for s in HANDOFF_STATES},
            "outbox": {"queued": outbox.get("queued", 0), "sending": outbox.get("sending", 0),
                       "sent": outbox.get("sent", 0),
                       "dead": outbox.get("dead", 0), "bounced": outbox.get("bounced", 0),
                       "failed": outbox.get("dead", 0) + outbox.get("bounced", 0)},
            "hard_bouncing": self.hard_bouncing(),
            "inbound": inbound,
            "refused": {"count": inbound["refused"],
                        "last": last_refused[0].as_json() if last_refused else None},
            "quarantine": counts("select status as k, count(*) as n from quarantine group by status"),
            "last_run": (
                {"finished": last["finished"], "now": last["now"], **json.loads(last["summary"] or "{}")}
                if last
                else None
            ),
        }
