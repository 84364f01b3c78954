"""What a failed outgoing email changes: an event on its handoff, and a word to whoever waits.

Mail to the owner that never arrived (refused with a 5xx, bounced, or given up after every
retry) means nobody is working on the handoff: the requester hears it, once per handoff and
address, with how to give it to someone else. Mail that failed to anyone else is recorded
on the handoff and shown by ``status`` and ``doctor``; nobody is told, and the address that
failed is never written to about its own failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from nudger.core.handoffs import Outcome
from nudger.core.records import Event, Handoff, Notice


@dataclass(frozen=True)
class Failure:
    """One outgoing email that will not arrive."""

    outbox_id: int
    recipient: str
    kind: str  # the kind of email that failed (new_handoff, overdue, ...)
    reason: str  # the server's words, or the bounce's diagnostic
    how: str  # "refused" (5xx at SMTP), "bounced" (a delivery report), "gave_up" (retries used up)
    hard: bool  # the address itself is bad (shown by status and doctor until it writes to us)
    subject: str = ""  # the failed email's subject, to name it to the requester


def after_failure(handoff: Handoff, failure: Failure) -> Outcome:
    """The event on the handoff and, when the owner's mail failed, the requester's notice."""
    out = Outcome(before=handoff, after=handoff)
    out.events.append(Event("undeliverable", handoff.state, {
        "outbox_id": failure.outbox_id, "to": failure.recipient, "email": failure.kind,
        "how": failure.how, "reason": failure.reason}, words=failure.reason))
    to = failure.recipient.lower()
    if handoff.is_open and to == (handoff.owner or "").lower() and to != handoff.requester.lower():
        out.notices.append(Notice(
            "undeliverable", handoff.requester, handoff.id,
            context={"failed_to": failure.recipient, "failed_kind": failure.kind, "failed_subject": failure.subject,
                     "reason": failure.reason,
                     "how": failure.how, "never_got": failure.kind == "new_handoff"},
            key=f"undeliverable:{handoff.id}:{to}"))
    return out
