"""The owner's calendar entry for a handoff's due date, as an ``.ics`` file on their email.

One all-day event per handoff, ``UID`` fixed by the handoff's number and our domain, so a
later file updates the same entry instead of adding one: a new date or a reopen sends it
again with a higher ``SEQUENCE``, a cancel sends ``METHOD:CANCEL``. The sequence is the
handoff's last change in minutes since 2020, so it only grows and a resend after a crash
writes the same file. ``icalendar`` is imported only when an entry is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from nudger.core.records import Handoff

# Which emails carry the entry, to whom: (kind, role) → method.
_REQUESTS = {"new_handoff", "due_changed", "reopened"}
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Invite:
    """An attachment shaped like the customer's (filename, content_type, data)."""

    filename: str
    content_type: str
    data: bytes
    method: str

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def params(self) -> tuple[tuple[str, str], ...]:
        """Content-Type parameters: calendar clients read the method there too."""
        return (("method", self.method),)


def invite_method(kind: str, handoff: Handoff | None, role: str) -> str | None:
    """PUBLISH for the owner's notice of a new or changed date, CANCEL for the owner's copy
    of a cancel; None for everything else (requesters and watchers get no entry)."""
    if handoff is None or handoff.due is None or not handoff.owner:
        return None
    if kind == "cancelled" and role == "owner":
        return "CANCEL"
    if kind in _REQUESTS and role == "owner" and handoff.is_open:
        return "PUBLISH"
    return None


def sequence_of(handoff: Handoff) -> int:
    return max(0, int((handoff.updated - _EPOCH).total_seconds() // 60))


def invite_for(kind: str, handoff: Handoff | None, role: str, domain: str, stamp: datetime,
               reply_address: str = "") -> Invite | None:
    method = invite_method(kind, handoff, role)
    if method is None or handoff is None or handoff.due is None:
        return None
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", "-//nudger//handoff due dates//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = icalendar.Event()
    event.add("uid", f"handoff-{handoff.id}@{domain}")
    event.add("sequence", sequence_of(handoff))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", handoff.due)
    event.add("dtend", handoff.due + timedelta(days=1))
    event.add("summary", f"Due: #{handoff.id} {handoff.title}")
    event.add("transp", "TRANSPARENT")  # a deadline, not a meeting: it does not block the day
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    lines = [f"Handoff #{handoff.id} for {handoff.requester}."]
    if reply_address:
        lines.append(f"Reply to {reply_address} with done, due <date> or blocked <reason>.")
    event.add("description", " ".join(lines))
    cal.add_component(event)
    return Invite(f"handoff-{handoff.id}.ics", "text/calendar", cal.to_ical(), method)
