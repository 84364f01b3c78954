"""The outbox: every outgoing email from queued to sent (or dead, or superseded).

Its dedupe keys are the ledger of what was sent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from nudger.core.records import OwnerNotice
from nudger.state.db import Rows, iso


def _utc(text: str) -> datetime:
    t = datetime.fromisoformat(text)
    return t if t.tzinfo is UTC else t.astimezone(UTC)


class OutboxRows(Rows):

    @contextmanager
    def delivery_records(self) -> Iterator[None]:
        """The deliver stage writes one small transaction per answer; inside this, they commit
        without waiting for the disk (WAL with synchronous=NORMAL: every commit still survives
        the process being killed; only a power cut may lose the last few, and a lost delivery
        record can only make an email go again with its Message-ID, never lose one). Ingest keeps
        synchronous=FULL: a lost commit there after the source was told would lose mail."""
        with self.db.synchronous("normal"):
            yield

    def enqueue(self, row: dict[str, Any]) -> bool:
        """Insert one outgoing message unless its dedupe key is already there."""
        cur = self.db.conn.execute(
            "insert or ignore into outbox (dedupe_key, kind, handoff_id, recipient, message_id,"
            " subject, has_bytes, status, send_after, attempts, created)"
            " values (?, ?, ?, ?, ?, ?, 1, 'queued', ?, 0, ?)",
            [
                row["dedupe_key"],
                row["kind"],
                row.get("handoff_id"),
                row["recipient"],
                row["message_id"],
                row["subject"],
                row["send_after"],
                row["created"],
            ],
        )
        if cur.rowcount != 1:
            return False
        # Its bytes apart (m015): the status updates of delivery rewrite a small row only.
        self.db.conn.execute("insert into outbox_bytes (id, raw) values (?, ?)", [cur.lastrowid, row["raw"]])
        return True

    def outbox_due(self, now: datetime, limit: int = 1000) -> list[dict[str, Any]]:
        return self._rows(
            "select o.id, kind, recipient, subject, b.raw, attempts, created, send_after from outbox o"
            " join outbox_bytes b on b.id = o.id where status = 'queued' and send_after <= ?"
            " order by send_after, o.id limit ?",
            [iso(now), limit],
        )

    def outbox_due_count(self, now: datetime) -> int:
        """How many emails wait for a delivery that is due (those a relay out of reach left)."""
        row = self.db.conn.execute("select count(*) from outbox where status = 'queued' and send_after <= ?",
                                   [iso(now)]).fetchone()
        return int(row[0])

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

    def mark_untried(self, outbox_id: int, error: str) -> None:
        """Back to the queue as it was (the claim's attempt undone, the same send time): the
        relay could not be reached, which says nothing about this email or its recipient."""
        with self.transaction():
            self.db.conn.execute(
                "update outbox set status = 'queued', attempts = max(attempts - 1, 0), last_error = ?"
                " where id = ?", [error, outbox_id])

    def count_queued_to(self, recipient: str, kinds: tuple[str, ...], handoff_id: int | None,
                        windows: list[tuple[datetime, bool]]) -> list[int]:
        """Mail of these kinds queued to one person, for each window (since when, and whether
        only mail about ``handoff_id`` counts: about none when it is None), in one query by
        the (recipient, created) index: the loop limits count these."""
        if not windows:
            return []
        sums = ", ".join("coalesce(sum(created >= ? and handoff_id is ?), 0)" if per_handoff
                         else "coalesce(sum(created >= ?), 0)" for _, per_handoff in windows)
        params: list[Any] = []
        for since, per_handoff in windows:
            params += [iso(since), handoff_id] if per_handoff else [iso(since)]
        marks = ",".join("?" * len(kinds))
        row = self.db.conn.execute(
            f"select {sums} from outbox where recipient = ? and created >= ? and kind in ({marks})",
            [*params, recipient, iso(min(since for since, _ in windows)), *kinds]).fetchone()
        return [int(n) for n in row]

    def sent_since(self, recipient: str, since: datetime) -> list[str]:
        """When mail to one person went out since ``since``, oldest first (the hourly limit)."""
        rows = self._rows(
            "select sent from outbox where recipient = ? and created >= ? and status = 'sent' and sent >= ?"
            " order by sent", [recipient, iso(since - timedelta(days=4)), iso(since)])
        return [r["sent"] for r in rows]

    def hold(self, outbox_id: int, until: datetime) -> None:
        """Not yet: a late run found the recipient outside their business hours."""
        self.db.conn.execute("update outbox set send_after = ? where id = ? and status = 'queued'",
                             [iso(until), outbox_id])

    def mark_dead(self, outbox_id: int, error: str, at: datetime, *, hard: bool) -> None:
        """Given up: ``hard`` when the server refused the recipient (5xx), not after retries."""
        with self.transaction():
            self.db.conn.execute(
                "update outbox set status = 'dead', last_error = ?, failed_at = ?, hard_failure = ?"
                " where id = ?", [error, iso(at), int(hard), outbox_id])

    def mark_bounced(self, outbox_id: int, diagnostic: str, at: datetime, *, hard: bool) -> bool:
        """A delivery report for mail the relay had accepted; False when the row was not sent
        (already bounced, say: a second report changes nothing)."""
        with self.transaction():
            cur = self.db.conn.execute(
                "update outbox set status = 'bounced', last_error = ?, failed_at = ?, hard_failure = ?"
                " where id = ? and status = 'sent'", [diagnostic, iso(at), int(hard), outbox_id])
        return cur.rowcount == 1

    def requeue(self, outbox_id: int, now: datetime) -> dict[str, Any] | None:
        """`nudger outbox retry ID`: dead, bounced or waiting mail goes out with the next run,
        its attempts counted afresh. None when there is no such row or it cannot be resent."""
        with self.transaction():
            row = self.outbox_row(outbox_id)
            if row is None or row["status"] not in ("queued", "dead", "bounced") or not row["has_raw"]:
                return row and {**row, "requeued": False}
            self.db.conn.execute(
                "update outbox set status = 'queued', send_after = ?, attempts = 0, hard_failure = 0"
                " where id = ?", [iso(now), outbox_id])
        return {**row, "requeued": True}

    def outbox_row(self, outbox_id: int) -> dict[str, Any] | None:
        return self._one(
            "select id, kind, handoff_id, recipient, message_id, subject, status, send_after, attempts,"
            " sent, last_error, failed_at, hard_failure, has_bytes as has_raw from outbox where id = ?",
            [outbox_id])

    def recover_sending(self) -> int:
        """Rows a killed run left in 'sending' go back to the queue, same Message-ID. Read-only
        when there are none (every run but one after a kill)."""
        if self.db.conn.execute("select 1 from outbox where status = 'sending' limit 1").fetchone() is None:
            return 0
        with self.transaction():
            cur = self.db.conn.execute("update outbox set status = 'queued' where status = 'sending'")
        return cur.rowcount

    def outbox_log(self, after_id: int = 0) -> list[dict[str, Any]]:
        """Every outgoing email after ``after_id``, with its dedupe key and when it was queued:
        enough to say why each one went (the demo's timeline)."""
        return self._rows(
            "select id, dedupe_key, kind, handoff_id, recipient, subject, status, created, send_after, sent"
            " from outbox where id > ? order by id", [after_id])

    def outbox(self, statuses: tuple[str, ...] = ("queued", "sending", "dead", "bounced")) -> list[dict]:
        marks = ",".join("?" * len(statuses))
        return self._rows(
            f"select id, kind, handoff_id, recipient, message_id, subject, status, send_after, attempts,"
            f" sent, last_error, failed_at from outbox where status in ({marks}) order by id",
            list(statuses),
        )

    def forget_sent_bytes(self, before: datetime) -> int:
        """Drop the bytes of mail sent before ``before`` (the row, its key and the event log
        stay: dedupe and history need no body). Read-only when there is nothing to drop, so an
        idle run writes nothing."""
        old = "from outbox where has_bytes = 1 and sent < ? and status = 'sent'"
        if self.db.conn.execute(f"select 1 {old} limit 1", [iso(before)]).fetchone() is None:
            return 0
        with self.transaction():
            self.db.conn.execute(f"delete from outbox_bytes where id in (select id {old})", [iso(before)])
            return self.db.conn.execute(f"update outbox set has_bytes = 0 where id in (select id {old})",
                                        [iso(before)]).rowcount

    def hard_bouncing(self) -> list[dict[str, Any]]:
        """Addresses whose mail was refused for good (a 5xx, a hard bounce), each with its latest
        failure; an address is cleared when mail from it arrives later, or its row is resent."""
        return self._rows(
            "select o.recipient as address, o.failed_at as at, o.id as outbox_id, o.last_error as reason"
            " from outbox o where o.hard_failure = 1 and o.failed_at = (select max(failed_at) from outbox"
            " where hard_failure = 1 and recipient = o.recipient)"
            " and not exists (select 1 from inbound i where i.sender = o.recipient and i.received > o.failed_at)"
            " group by o.recipient order by o.recipient")

    def owner_notices(self, ids: list[int]) -> dict[int, list[OwnerNotice]]:
        """Each handoff's new-handoff notices, oldest first (a batch of the schedule: an ack
        reminder counts from when the owner's notice reached them). One probe of a partial
        index per batch."""
        found: dict[int, list[OwnerNotice]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for hid, to, created, sent, status, send_after in self.db.conn.execute(
                    f"select handoff_id, recipient, created, sent, status, send_after from outbox"
                    f" where kind = 'new_handoff' and handoff_id in ({marks}) order by handoff_id, created, id",
                    chunk):
                found.setdefault(hid, []).append(OwnerNotice(
                    to, _utc(created), _utc(sent) if status == "sent" and sent else None,
                    _utc(send_after) if status in ("queued", "sending") else None))
        return found

    def outbox_for_handoff(self, handoff_id: int) -> list[dict[str, Any]]:
        return self._rows(
            "select id, kind, recipient, subject, status, send_after, sent from outbox"
            " where handoff_id = ? order by id",
            [handoff_id],
        )

    def supersede(self, patterns: tuple[str, ...], keep: str) -> int:
        """Held mail that a newer email makes moot (yesterday's digest still waiting for
        business hours when today's is queued) is not sent: marked superseded."""
        count = 0
        for pattern in patterns:
            # The text before the first wildcard bounds a range of the dedupe key's unique
            # index (``+status``: not the status index), and the LIKE filters a few rows, not
            # every queued one.
            prefix = pattern.split("%", 1)[0]
            count += self.db.conn.execute(
                "update outbox set status = 'superseded', last_error = ? where dedupe_key >= ?"
                " and dedupe_key < ? and +status = 'queued' and dedupe_key like ? escape '\\' and dedupe_key != ?",
                [f"superseded by {keep}", prefix, prefix + "\U0010ffff", pattern.replace("_", "\\_"), keep]).rowcount
        return count

    # --- schedule ------------------------------------------------------------------
    #
    # One row per subject ("h:<id>", "p:<email>", "t:<team>") with the next time the
    # schedule must look at it. A change to a handoff makes it due at once.

    def sent_keys(self, keys: list[str]) -> set[str]:
        """Which of these dedupe keys are in the outbox already (the ledger of what was sent)."""
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            found |= {r[0] for r in self.db.conn.execute(
                f"select dedupe_key from outbox where dedupe_key in ({marks})", chunk)}
        return found
