"""Recording an outgoing email that will not arrive, from the deliver stage or a bounce.

One transaction: the outbox row is marked (dead, or bounced), the handoff gets its event, and
the person waiting is told (see ``nudger.core.undeliverable``).
"""

from __future__ import annotations

from dataclasses import dataclass

from nudger.core.undeliverable import Failure, after_failure
from nudger.outbound.notify import Cause, queue
from nudger.runtime import Runtime


def record_failure(rt: Runtime, failure: Failure) -> int:
    """Mark the row and tell whoever waits; returns how many emails were queued. A bounce for a
    row that is not (or no longer) 'sent' changes nothing."""
    store = rt.store
    with store.transaction():
        if failure.how == "bounced":
            if not store.mark_bounced(failure.outbox_id, failure.reason, rt.now, hard=failure.hard):
                return 0
        else:
            store.mark_dead(failure.outbox_id, failure.reason, rt.now, hard=failure.hard)
        row = store.outbox_row(failure.outbox_id)
        handoff = store.handoff(row["handoff_id"]) if row and row["handoff_id"] else None
        if handoff is None:
            return 0
        outcome = after_failure(handoff, failure)
        saved = store.apply(outcome, actor=None, at=rt.now, recorded=rt.now, domain=rt.config.handoff_domain)
        return queue(rt, outcome.notices, Cause(f"outbox:{failure.outbox_id}"), saved)


@dataclass(frozen=True)
class BounceResult:
    """What a delivery report arriving at ``+bounce.<n>`` did, for the inbound record."""

    outcome: str  # "applied" (row n marked bounced) | "ignored"
    reason: str
    handoff_id: int | None = None
    queued: int = 0


def apply_bounce(rt: Runtime, raw: bytes, outbox_id: int) -> BounceResult:
    """Mark outbox row n bounced when the report is about it and says delivery failed.

    The report must name the row's recipient or its Message-ID: the bounce address is not a
    secret, so a report about something else changes nothing. A delay warning changes
    nothing either (the relay is still trying). Never answered, whatever it says.
    """
    from nudger.mail.dsn import read_report

    row = rt.store.outbox_row(outbox_id)
    if row is None:
        return BounceResult("ignored", f"names outgoing email #{outbox_id}, which does not exist")
    hid = row["handoff_id"]
    report = read_report(raw)
    said = report.diagnostic or (f"status {report.status}" if report.status else "no reason given")
    if not report.names(row["recipient"], row["message_id"]):
        return BounceResult("ignored", f"does not name {row['recipient']} or the Message-ID of outgoing "
                                       f"email #{outbox_id}: not trusted", hid)
    if report.action == "delayed":
        return BounceResult("ignored", f"a delay warning for #{outbox_id} ({said}): the relay is still trying", hid)
    if not report.failed:
        return BounceResult("ignored", f"reads as no failure for #{outbox_id} (action: {report.action})", hid)
    if row["status"] != "sent":
        return BounceResult("ignored", f"outgoing email #{outbox_id} is {row['status']}, not sent: nothing to mark",
                            hid)
    queued = record_failure(rt, Failure(outbox_id, row["recipient"], row["kind"], said, "bounced", report.hard,
                                        row["subject"]))
    how = "hard" if report.hard else "soft"
    return BounceResult("applied", f"{how} bounce of outgoing email #{outbox_id} to {row['recipient']}: {said}",
                        hid, queued)
