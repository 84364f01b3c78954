"""All SQL lives here. Each public write is one transaction; names say what happened."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nudger.core.message_ids import root_message_id
from nudger.core.records import HANDOFF_STATES, Event, Handoff, HandoffState
from nudger.errors import TemporaryFailure
from nudger.state.schema import is_current

if TYPE_CHECKING:
    from nudger.core.handoffs import Outcome

BUSY_TIMEOUT_MS = 10_000


def iso(dt: datetime) -> str:
    """Timestamps are stored as ISO 8601 in UTC so that text order is time order."""
    return dt.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class InboundCheck:
    """What the store knows of a message: ``new``, a ``redelivery``, or a ``reused_id``
    (its Message-ID was used by a different message). ``key`` is the one to record it under."""

    verdict: str
    key: str
    seen_id: int | None = None


@dataclass(frozen=True)
class InboundRecord:
    key: str
    received: datetime
    kind: str
    outcome: str
    reasons: tuple[str, ...] | list[str]
    body_hash: str
    authorised: bool = False
    message_id: str | None = None
    sender: str = ""
    subject: str = ""
    handoff_id: int | None = None


@dataclass(frozen=True)
class Quarantined:
    id: int
    raw: bytes
    source_key: str
    dedupe_key: str


class Connection:
    """The database connection as the store uses it: plain sqlite3, with savepoints for
    nested transactions. sqlite-utils is imported only to apply migrations."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    @contextmanager
    def atomic(self) -> Iterator[Connection]:
        """A savepoint inside the open transaction (or a transaction of its own)."""
        if not self.conn.in_transaction:
            with self.conn:
                yield self
            return
        name = f"nudger_{secrets.token_hex(8)}"
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


class Store:
    """nudger's state in one SQLite file: WAL, a busy timeout, migrations applied on open."""

    def __init__(self, db: Connection):
        self.db = db

    @classmethod
    def open(cls, path: Path | str, *, migrate: bool = True) -> Store:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if str(path) != ":memory:" and conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = wal")
            conn.execute("PRAGMA foreign_keys = ON")
            if migrate and not is_current(conn):
                from sqlite_utils import Database

                from nudger.state.migrations import migrations

                migrations.apply(Database(conn))
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise TemporaryFailure(f"database {path} is busy: {exc}") from exc
            raise
        return cls(Connection(conn))

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
    #
    # Dedupe, the reused-Message-ID check and quarantine live here, so that a quarantined
    # message can be released and read again instead of being skipped as "already seen".

    def inbound_check(self, key: str, body_hash: str) -> InboundCheck:
        """Is this message new, a redelivery, or a different message reusing a Message-ID?"""
        seen = self._one("select id, body_hash from inbound where dedupe_key = ?", [key])
        if seen and seen["body_hash"] and seen["body_hash"] != body_hash:
            own_key = f"{key}#{body_hash[:16]}"
            again = self._one("select id from inbound where dedupe_key = ?", [own_key])
            return InboundCheck("redelivery" if again else "reused_id", own_key, int(seen["id"]))
        return InboundCheck("redelivery" if seen else "new", key, int(seen["id"]) if seen else None)

    def inbound_seen(self, dedupe_key: str) -> bool:
        return self._one("select 1 as x from inbound where dedupe_key = ?", [dedupe_key]) is not None

    def record_redelivery(self, dedupe_key: str) -> None:
        with self.transaction():
            self.db.conn.execute(
                "update inbound set deliveries = deliveries + 1 where dedupe_key = ?", [dedupe_key]
            )

    def record_inbound(self, row: InboundRecord) -> int:
        return self._insert("inbound", {
            "dedupe_key": row.key, "message_id": row.message_id, "received": iso(row.received),
            "sender": row.sender, "subject": row.subject[:500], "kind": row.kind,
            "authorised": int(row.authorised), "reasons": json.dumps(list(row.reasons)),
            "handoff_id": row.handoff_id, "outcome": row.outcome, "body_hash": row.body_hash,
        }, or_ignore=True)

    def quarantine(self, raw: bytes, reason: str, detail: str, source_key: str, at: datetime,
                   record: InboundRecord) -> int:
        """Keep the message whole with its reason; its inbound record makes a redelivery of
        it a duplicate until someone releases it. In the caller's transaction."""
        qid = self._insert(
            "quarantine",
            {"at": iso(at), "reason": reason, "detail": detail, "source_key": source_key,
             "raw": raw, "status": "held", "dedupe_key": record.key},
        )
        self.record_inbound(record)
        return qid

    def quarantined(self) -> list[dict[str, Any]]:
        return self._rows(
            "select id, at, reason, source_key, status, length(raw) as size from quarantine order by id"
        )

    def release_quarantined(self, quarantine_id: int, key_of: Callable[[bytes], str]) -> Quarantined | None:
        """Take a held message out of quarantine so the next read handles it as new.

        Its inbound record is removed (it was only there to hold redeliveries back); the
        quarantine row stays, marked released, as the record of what happened.
        """
        with self.transaction():
            row = self._one("select id, raw, source_key, dedupe_key, status from quarantine where id = ?",
                            [quarantine_id])
            if row is None or row["status"] != "held":
                return None
            raw = bytes(row["raw"])
            key = row["dedupe_key"] or key_of(raw)  # rows from before m005 kept no key
            self.db.conn.execute("update quarantine set status = 'released' where id = ?", [quarantine_id])
            self.db.conn.execute("delete from inbound where dedupe_key = ? and outcome = 'quarantined'", [key])
        return Quarantined(int(row["id"]), raw, row["source_key"] or "", key)

    # --- handoffs and events -------------------------------------------------

    def apply(self, outcome: Outcome, *, actor: str | None, at: datetime, recorded: datetime,
              domain: str, source_raw: bytes | None = None) -> Handoff:
        """Write what one message did to one handoff: the new row or its changes, its events,
        the round-robin cursor and a digest choice. In the caller's transaction; returns the
        handoff as saved (with its number, for a new one)."""
        after = outcome.after
        if outcome.before is None:
            row = _handoff_row(after)
            row.pop("id")
            row["source_raw"] = source_raw
            hid = self._insert("handoffs", row)
            root = root_message_id(hid, iso(after.created), domain)
            self.db.conn.execute("update handoffs set root_message_id = ? where id = ?", [root, hid])
            after = after.changed(id=hid, root_message_id=root)
        elif changes := outcome.changes:
            self._update("handoffs", after.id, _handoff_row(after, only=changes))
        # A history never runs backwards: an event is not dated before the one it follows.
        last = self._one("select max(at) as at from events where handoff_id = ?", [after.id])
        floor = datetime.fromisoformat(last["at"]) if last and last["at"] else at
        when = max(at, floor)
        for event in outcome.events:
            s = event.state
            self._insert("events", {
                "handoff_id": after.id, "at": iso(when), "recorded": iso(recorded), "kind": event.kind,
                "actor": event.actor or actor, "data": json.dumps(dict(event.data), default=str),
                "words": event.words or None, "status": s.status, "owner": s.owner, "team": s.team,
                "due": s.due.isoformat() if s.due else None, "priority": s.priority, "rush": int(s.rush),
            })
        self.touch(f"h:{after.id}")  # the schedule reads this handoff again, this run
        if outcome.before is None or after.status == "done":
            self.touch(f"p:{after.requester}")  # digests and the appreciation prompt
        if outcome.cursor:
            self.set_round_robin_position(*outcome.cursor)
        if outcome.digest_choice and actor:
            self.set_digest_choice(actor, outcome.digest_choice, at)
        return after

    def handoff(self, handoff_id: int) -> Handoff | None:
        row = self._one(f"select {_HANDOFF_COLUMNS} from handoffs where id = ?", [handoff_id])
        return _decode_handoff(row) if row else None

    def handoff_source(self, handoff_id: int) -> bytes | None:
        """The forward as received, kept only when it carried attachments."""
        row = self._one("select source_raw from handoffs where id = ?", [handoff_id])
        return bytes(row["source_raw"]) if row and row["source_raw"] is not None else None

    def handoff_by_root(self, message_ids: list[str]) -> Handoff | None:
        if not message_ids:
            return None
        marks = ",".join("?" * len(message_ids))
        row = self._one(
            f"select id from handoffs where root_message_id in ({marks}) "
            f"union select handoff_id from outbox where message_id in ({marks}) and handoff_id is not null"
            f" limit 1",
            [*message_ids, *message_ids],
        )
        return self.handoff(int(row["id"])) if row else None

    def handoffs(self, status: str | None = None) -> list[Handoff]:
        where, params = ("where status = ?", [status]) if status else ("", [])
        rows = self._rows(f"select {_HANDOFF_COLUMNS} from handoffs {where} order by id", params)
        return [_decode_handoff(r) for r in rows]

    def open_handoffs_for(self, email: str) -> list[Handoff]:
        """Open handoffs the person owns or asked for (an index on each, not a scan)."""
        email = email.lower()
        rows = self._rows(
            f"select {_HANDOFF_COLUMNS} from handoffs where status in ('open', 'acknowledged', 'blocked')"
            f" and (owner = ? or requester = ?) order by id",
            [email, email],
        )
        return [_decode_handoff(r) for r in rows]

    def events(self, handoff_id: int) -> list[Event]:
        rows = self._rows(f"select {_EVENT_COLUMNS} from events where handoff_id = ? order by at, id",
                          [handoff_id])
        return [_decode_event(r) for r in rows]

    def state_at(self, handoff_id: int, at: datetime) -> HandoffState | None:
        """The handoff as it stood at instant ``at``: the state its last event up to then left.
        None before it existed."""
        row = self._one(
            f"select {_EVENT_COLUMNS} from events where handoff_id = ? and at <= ?"
            " order by at desc, id desc limit 1",
            [handoff_id, iso(at)],
        )
        return _decode_event(row).state if row else None

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
            "select id, kind, recipient, raw, attempts, created, send_after from outbox"
            " where status = 'queued' and send_after <= ?"
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

    def hold(self, outbox_id: int, until: datetime) -> None:
        """Not yet: a late run found the recipient outside their business hours."""
        self.db.conn.execute("update outbox set send_after = ? where id = ? and status = 'queued'",
                             [iso(until), outbox_id])

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
        self.touch(f"p:{email.lower()}")

    def digest_choices(self) -> dict[str, str]:
        """Choices people made by reply; the latest reply wins over the config."""
        return {r["email"]: r["digest"] for r in self._rows("select email, digest from people")}

    def digest_chosen_at(self, email: str) -> datetime | None:
        """When the person last chose their digest by reply."""
        row = self.db.conn.execute("select updated from people where email = ?", [email.lower()]).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def supersede(self, patterns: tuple[str, ...], keep: str) -> int:
        """Held mail that a newer email makes moot (yesterday's digest still waiting for
        business hours when today's is queued) is not sent: marked superseded."""
        count = 0
        for pattern in patterns:
            count += self.db.conn.execute(
                "update outbox set status = 'superseded', last_error = ? where status = 'queued'"
                " and dedupe_key like ? escape '\\' and dedupe_key != ?",
                [f"superseded by {keep}", pattern.replace("_", "\\_"), keep]).rowcount
        return count

    # --- schedule ------------------------------------------------------------------
    #
    # One row per subject ("h:<id>", "p:<email>", "t:<team>") with the next time the
    # schedule must look at it. A change to a handoff makes it due at once.

    def touch(self, subject: str) -> None:
        self.db.conn.execute(
            "insert into schedule (subject, next_at) values (?, '') on conflict(subject)"
            " do update set next_at = ''", [subject])

    def due_subjects(self, now: datetime, limit: int = 1000) -> list[str]:
        rows = self.db.conn.execute(
            "select subject from schedule where next_at <= ? order by next_at, subject limit ?",
            [iso(now), limit]).fetchall()
        return [r[0] for r in rows]

    def set_next(self, subject: str, at: datetime | None) -> None:
        if at is None:
            self.db.conn.execute("delete from schedule where subject = ?", [subject])
        else:
            self.db.conn.execute(
                "insert into schedule (subject, next_at) values (?, ?) on conflict(subject)"
                " do update set next_at = excluded.next_at", [subject, iso(at)])

    def schedule_rows(self) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self.db.conn.execute("select subject, next_at from schedule order by next_at")]

    def reset_schedule(self, subjects: list[str]) -> None:
        """After a config edit: look at everything again (sent mail stays sent: dedupe keys)."""
        with self.transaction():
            self.db.conn.execute("update schedule set next_at = ''")
            self.db.conn.executemany(
                "insert into schedule (subject, next_at) values (?, '') on conflict(subject)"
                " do update set next_at = ''", [[s] for s in subjects])

    def setting(self, key: str) -> str | None:
        row = self.db.conn.execute("select value from settings where key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str) -> None:
        self.db.conn.execute("insert into settings (key, value) values (?, ?) on conflict(key)"
                             " do update set value = excluded.value", [key, value])

    def sent_keys(self, keys: list[str]) -> set[str]:
        """Which of these dedupe keys are in the outbox already (the ledger of what was sent)."""
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            found |= {r[0] for r in self.db.conn.execute(
                f"select dedupe_key from outbox where dedupe_key in ({marks})", chunk)}
        return found

    # --- history as of an instant ----------------------------------------------------

    def handoffs_as_of(self, ids: list[int], at: datetime) -> list[Handoff]:
        """These handoffs as they stood at ``at`` (status, owner, team, due, priority, rush
        from the event log); those that did not exist yet are left out."""
        out = []
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._rows(
                f"select {_HANDOFF_COLUMNS} from handoffs where id in ({marks}) order by id", chunk)
            states = {e.handoff_id: e.state for e in map(_decode_event, self._rows(
                f"select {_EVENT_COLUMNS} from events e where e.handoff_id in ({marks}) and e.id = ("
                " select e2.id from events e2 where e2.handoff_id = e.handoff_id and e2.at <= ?"
                " order by e2.at desc, e2.id desc limit 1)", [*chunk, iso(at)]))}
            reasons = dict(self.db.conn.execute(
                f"select e.handoff_id, e.words from events e where e.handoff_id in ({marks}) and e.id = ("
                " select e2.id from events e2 where e2.handoff_id = e.handoff_id and e2.at <= ?"
                " and e2.kind = 'blocked' order by e2.at desc, e2.id desc limit 1)", [*chunk, iso(at)]).fetchall())
            for row in rows:
                h = _decode_handoff(row)
                if (s := states.get(h.id)) is not None:
                    why = reasons.get(h.id) if s.status == "blocked" else None
                    out.append(h.changed(status=s.status, owner=s.owner, team=s.team, due=s.due,
                                         priority=s.priority, rush=s.rush, blocked_reason=why or None))
        return out

    def handoff_ids_involving(self, email: str, since: datetime) -> list[int]:
        """Handoffs the person asked for, owns, or owned at some point since ``since``."""
        email = email.lower()
        rows = self.db.conn.execute(  # three index seeks (an OR would scan every handoff)
            "select id from handoffs where requester = ?"
            " union select id from handoffs where owner = ?"
            " union select handoff_id from events where owner = ? and at >= ?",
            [email, email, email, iso(since)]).fetchall()
        return sorted(r[0] for r in rows)

    def escalated_to(self, handoff_id: int) -> set[str]:
        """Who this handoff was escalated to (they may then act on it)."""
        return {r[0] for r in self.db.conn.execute(
            "select recipient from outbox where handoff_id = ? and kind = 'escalation'", [handoff_id])}

    def completions(self, requester: str, since: datetime, until: datetime) -> list[tuple[int, datetime, bool]]:
        """(handoff, done at, thanked since) for the requester's handoffs done in [since, until)."""
        rows = self.db.conn.execute(
            "select e.handoff_id, e.at, exists(select 1 from events t where t.handoff_id = e.handoff_id"
            "   and t.kind = 'thanked' and t.at >= e.at and t.at < ?)"
            " from events e join handoffs h on h.id = e.handoff_id"
            " where h.requester = ? and e.kind = 'done' and e.at >= ? and e.at < ? order by e.at",
            [iso(until), requester.lower(), iso(since), iso(until)]).fetchall()
        return [(r[0], datetime.fromisoformat(r[1]), bool(r[2])) for r in rows]

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

        last = self._one("select finished, now, summary from runs where finished is not null order by id desc limit 1")
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


_HANDOFF_COLUMNS = ("id, title, status, prev_status, owner, requester, team, due, priority, rush,"
                    " created, updated, watchers, note, forwarded, root_message_id, blocked_reason,"
                    " source_raw is not null as has_source, due_asked")
_EVENT_COLUMNS = ("id, handoff_id, at, recorded, kind, actor, data, words, status, owner, team, due,"
                  " priority, rush")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


def _decode_handoff(row: dict[str, Any]) -> Handoff:
    created = _time(row["created"]) or datetime.fromtimestamp(0, UTC)
    return Handoff(
        id=int(row["id"]), title=row["title"], status=row["status"], requester=row["requester"],
        created=created, updated=_time(row["updated"]) or created, owner=row["owner"], team=row["team"],
        due=date.fromisoformat(row["due"]) if row["due"] else None, priority=row["priority"] or "normal",
        rush=bool(row["rush"]), watchers=tuple(json.loads(row["watchers"] or "[]")),
        note=row["note"] or "", forwarded=json.loads(row["forwarded"]) if row["forwarded"] else None,
        root_message_id=row["root_message_id"], blocked_reason=row["blocked_reason"],
        prev_status=row["prev_status"], has_source=bool(row["has_source"]),
        due_asked=bool(row["due_asked"]),
    )


def _handoff_row(h: Handoff, only: dict[str, Any] | None = None) -> dict[str, Any]:
    """The columns of a handoff (or just the changed ones), encoded for SQLite."""
    values: dict[str, Any] = {
        "id": h.id, "title": h.title, "status": h.status, "prev_status": h.prev_status,
        "owner": h.owner, "requester": h.requester, "team": h.team,
        "due": h.due.isoformat() if h.due else None, "priority": h.priority, "rush": int(h.rush),
        "created": iso(h.created), "updated": iso(h.updated), "watchers": json.dumps(list(h.watchers)),
        "note": h.note, "forwarded": json.dumps(h.forwarded) if h.forwarded is not None else None,
        "root_message_id": h.root_message_id, "blocked_reason": h.blocked_reason,
        "due_asked": int(h.due_asked),
    }
    if only is not None:
        return {k: v for k, v in values.items() if k in only}
    return values


def _decode_event(row: dict[str, Any]) -> Event:
    state = HandoffState(
        status=row["status"] or "open", owner=row["owner"], team=row["team"],
        due=date.fromisoformat(row["due"]) if row["due"] else None,
        priority=row["priority"] or "normal", rush=bool(row["rush"]),
    )
    return Event(
        kind=row["kind"], state=state, data=json.loads(row["data"] or "{}"), words=row["words"] or "",
        actor=row["actor"], at=_time(row["at"]), recorded=_time(row["recorded"]),
        handoff_id=int(row["handoff_id"]), id=int(row["id"]),
    )
