"""The inbound log: dedupe, the reused-Message-ID check and quarantine.

They live together so that a quarantined message can be released and read again instead of
being skipped as "already seen".
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nudger.state.db import Rows, iso


class AlreadyRecorded(Exception):
    """Another process recorded this message first (a run and ``ingest -`` racing for it)."""


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


@dataclass(frozen=True)
class Received:
    """One message as the inbound log keeps it: what it was taken for and what came of it."""

    id: int
    received: datetime
    sender: str
    subject: str
    kind: str  # handoff | reply | bounce | auto_reply | loop | unknown
    outcome: str  # created | applied | answered | refused | ignored | quarantined
    reasons: tuple[str, ...]
    handoff_id: int | None
    deliveries: int  # 1, and one more for each redelivery of it (recorded, not acted on)

    @property
    def reason(self) -> str:
        """Why nothing (or not what was asked) came of it: the last reason given, the decisive
        one (classification comes first); "" when it was acted on, as it asked."""
        if self.outcome in ("created", "applied", "answered"):
            return ""
        return self.reasons[-1] if self.reasons else ""

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "received": iso(self.received), "sender": self.sender, "subject": self.subject,
                "kind": self.kind, "outcome": self.outcome, "reason": self.reason, "reasons": list(self.reasons),
                "handoff": self.handoff_id, "deliveries": self.deliveries}


# What came of a message, as `status` counts it: a refused or quarantined message is counted
# as that, whatever it looked like; a forward only as a handoff when it became one.
INBOUND_TALLY = ("handoff", "reply", "refused", "auto_reply", "bounce", "loop", "quarantined")


def _tally(kind: str, outcome: str) -> str:
    if outcome in ("refused", "quarantined"):
        return outcome
    if kind == "handoff":
        return "handoff" if outcome == "created" else "reply"  # `status` or `help` sent to the handoff address
    return kind


_RECEIVED = "id, received, sender, subject, kind, outcome, reasons, handoff_id, deliveries"


def _received(row: dict[str, Any]) -> Received:
    return Received(int(row["id"]), datetime.fromisoformat(row["received"]), row["sender"] or "",
                    row["subject"] or "", row["kind"] or "unknown", row["outcome"] or "",
                    tuple(json.loads(row["reasons"] or "[]")), row["handoff_id"], int(row["deliveries"] or 1))



class InboundLog(Rows):
    def inbound_check(self, key: str, body_hash: str) -> InboundCheck:
        """Is this message new, a redelivery, or a different message reusing a Message-ID?"""
        seen = self._one("select id, body_hash from inbound where dedupe_key = ?", [key])
        if seen and seen["body_hash"] and seen["body_hash"] != body_hash:
            own_key = f"{key}#{body_hash[:16]}"
            again = self._one("select id from inbound where dedupe_key = ?", [own_key])
            return InboundCheck("redelivery" if again else "reused_id", own_key, int(seen["id"]))
        return InboundCheck("redelivery" if seen else "new", key, int(seen["id"]) if seen else None)

    def received_messages(self, *, refused_only: bool = False, limit: int = 50) -> list[Received]:
        """The latest messages read, newest first (only the refused ones, with ``refused_only``)."""
        where = "where outcome = 'refused'" if refused_only else ""
        return [_received(r) for r in self._rows(
            f"select {_RECEIVED} from inbound {where} order by received desc, id desc limit ?", [limit])]

    def inbound_tally(self) -> dict[str, int]:
        """Every message read, counted once by what came of it (``INBOUND_TALLY``)."""
        tally = dict.fromkeys(INBOUND_TALLY, 0)
        for row in self._rows("select kind, outcome, count(*) as n from inbound group by kind, outcome"):
            key = _tally(row["kind"] or "unknown", row["outcome"] or "")
            tally[key] = tally.get(key, 0) + int(row["n"])
        return tally

    def inbound_seen(self, dedupe_key: str) -> bool:
        return self._one("select 1 as x from inbound where dedupe_key = ?", [dedupe_key]) is not None

    def record_redelivery(self, dedupe_key: str) -> None:
        with self.transaction():
            self.db.conn.execute(
                "update inbound set deliveries = deliveries + 1 where dedupe_key = ?", [dedupe_key]
            )

    def record_inbound(self, row: InboundRecord, *, claim: bool = False) -> int:
        """The message's record: what made it a duplicate from now on. With ``claim``, a
        record already there (another process took the message first) raises
        ``AlreadyRecorded``, and the caller's transaction is rolled back; without, it is kept."""
        values = {
            "dedupe_key": row.key, "message_id": row.message_id, "received": iso(row.received),
            "sender": row.sender, "subject": row.subject[:500], "kind": row.kind,
            "authorised": int(row.authorised), "reasons": json.dumps(list(row.reasons)),
            "handoff_id": row.handoff_id, "outcome": row.outcome, "body_hash": row.body_hash,
        }
        if not claim:
            return self._insert("inbound", values, or_ignore=True)
        try:
            return self._insert("inbound", values)
        except sqlite3.IntegrityError as exc:
            if "inbound.dedupe_key" not in str(exc):
                raise
            raise AlreadyRecorded(row.key) from exc

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

    def begin_attempt(self, key: str, at: datetime) -> int:
        """Count one more try at reading this message, committed before the try: how many
        tries came before this one (each of them stopped a run, or it would be recorded).

        Written without waiting for the disk (synchronous = NORMAL): the count must outlive
        a killed process, which it does, not a power cut, and a second fsync per message
        would halve the ingest rate. The row of a message that was then recorded is left for
        ``forget_attempts``: it is never read again (a recorded message is not tried again).
        """
        with self.db.synchronous("normal"), self.transaction():
            (count,) = self.db.conn.execute(
                "insert into attempts (dedupe_key, count, first_at, last_at) values (?, 1, ?, ?)"
                " on conflict(dedupe_key) do update set count = count + 1, last_at = excluded.last_at"
                " returning count", [key, iso(at), iso(at)]).fetchone()
        return int(count) - 1

    def end_attempt(self, key: str) -> None:
        """The message was quarantined: a release reads it again with no attempt counted."""
        self.db.conn.execute("delete from attempts where dedupe_key = ?", [key])

    def forget_attempts(self) -> int:
        """Once a run: the attempt rows of messages since recorded (one statement for the run,
        not one in each message's commit). Read-only when there are none."""
        if self.db.conn.execute("select 1 from attempts where dedupe_key in (select dedupe_key from inbound)"
                                " limit 1").fetchone() is None:
            return 0
        with self.transaction():
            return self.db.conn.execute(
                "delete from attempts where dedupe_key in (select dedupe_key from inbound)").rowcount

    def quarantined(self) -> list[dict[str, Any]]:
        return self._rows(
            "select id, at, reason, source_key, status, length(raw) as size from quarantine order by id"
        )

    def quarantine_rows(self, everything: bool = True) -> list[dict[str, Any]]:
        """The list an admin reads: each row with the start of its bytes (for From and Subject)."""
        where = "" if everything else "where status = 'held'"
        return self._rows(
            "select id, at, reason, source_key, status, length(raw) as size, substr(raw, 1, 65536) as head"
            f" from quarantine {where} order by id"
        )

    def quarantined_message(self, quarantine_id: int) -> dict[str, Any] | None:
        return self._one("select id, at, reason, detail, source_key, status, raw from quarantine where id = ?",
                         [quarantine_id])

    def drop_quarantined(self, quarantine_id: int) -> bool:
        """An admin's "this one is junk": the bytes go, the row stays as the record (dropped).
        Its inbound record stays too, so a redelivery of it is still a duplicate."""
        with self.transaction():
            cur = self.db.conn.execute(
                "update quarantine set status = 'dropped', raw = x'' where id = ? and status = 'held'", [quarantine_id])
        return cur.rowcount == 1

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
