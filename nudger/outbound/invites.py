"""The owner's calendar entry for a handoff's due date, as an ``.ics`` file on their email.

One all-day event per handoff, ``UID`` fixed by the handoff's number and our domain, so a
later file updates the same entry instead of adding one: a new date (whoever set it) or a
reopen sends it again with a higher ``SEQUENCE``, a cancel sends ``METHOD:CANCEL``. The
sequence is the handoff's last change in minutes since 2020, so it only grows and a resend
after a crash writes the same file.

It is an iTIP ``REQUEST`` (RFC 5546) from the handoff's reply address (``ORGANIZER``) to the
owner (``ATTENDEE``, already accepted, no answer asked for): the method calendar clients
apply to the entry they already have, where a ``PUBLISH`` is often imported as a copy. An
answer a client sends anyway (``method=REPLY``) is automated mail to the classifier.

The file is written directly: building it with ``icalendar`` cost as much CPU as rendering
the email it rides on. What is written is byte for byte what icalendar writes for the same
entry (the same property order, TEXT escaping and folding at 75 octets; tests/test_invites.py
compares the two over generated titles, addresses and dates), and icalendar still reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

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
        """Content-Type parameters: calendar clients read the method there too, and the
        charset (RFC 5545's default, said outright: a title may be "Société Générale")."""
        return (("charset", "utf-8"), ("method", self.method))


def invite_method(kind: str, handoff: Handoff | None, role: str, moved: bool = False) -> str | None:
    """REQUEST for the owner's notice of a new or changed date, CANCEL for the owner's copy
    of a cancel; None for everything else (requesters and watchers get no entry).
    ``moved``: the email goes with a reply that changed the date, whatever its kind (the
    owner's `status` answer after `due friday`, the confirmation of their own `ack friday`)."""
    if handoff is None or handoff.due is None or not handoff.owner or role != "owner":
        return None
    if kind == "cancelled":
        return "CANCEL"
    if (kind in _REQUESTS or moved) and handoff.is_open:
        return "REQUEST"
    return None


def sequence_of(handoff: Handoff) -> int:
    return max(0, int((handoff.updated - _EPOCH).total_seconds() // 60))


def invite_for(kind: str, handoff: Handoff | None, role: str, domain: str, stamp: datetime,
               reply_address: str, moved: bool = False) -> Invite | None:
    method = invite_method(kind, handoff, role, moved)
    if method is None or handoff is None or handoff.due is None or handoff.owner is None:
        return None
    lines = [f"Handoff #{handoff.id} for {handoff.requester}."]
    lines.append(f"Reply to {reply_address} with done, due <date> or blocked <reason>.")
    data = calendar_file(
        method=method, uid=f"handoff-{handoff.id}@{domain}", sequence=sequence_of(handoff), stamp=stamp,
        due=handoff.due, summary=f"Due: #{handoff.id} {handoff.title}", description=" ".join(lines),
        organizer=reply_address, attendee=handoff.owner)
    return Invite(f"handoff-{handoff.id}.ics", "text/calendar", data, method)


PRODID = "-//nudger//handoff due dates//EN"


def calendar_file(*, method: str, uid: str, sequence: int, stamp: datetime, due: date, summary: str,
                  description: str, organizer: str, attendee: str) -> bytes:
    """One all-day, non-blocking event in a calendar, as icalendar orders and writes it:
    ``organizer`` and ``attendee`` are email addresses (written as ``mailto:`` URIs)."""
    status = "CANCELLED" if method == "CANCEL" else "CONFIRMED"
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{_text(PRODID)}", f"METHOD:{_text(method)}",
        "BEGIN:VEVENT",
        f"SUMMARY:{_text(summary)}",
        f"DTSTART;VALUE=DATE:{_date(due)}",
        f"DTEND;VALUE=DATE:{_date(due + timedelta(days=1))}",
        f"DTSTAMP:{_date(utc := stamp.astimezone(UTC))}T{utc.hour:02d}{utc.minute:02d}{utc.second:02d}Z",
        f"UID:{_text(uid)}",
        f"SEQUENCE:{sequence}",
        f"ATTENDEE;PARTSTAT=ACCEPTED;RSVP=FALSE:{_mailto(attendee)}",
        f"DESCRIPTION:{_text(description)}",
        f"ORGANIZER:{_mailto(organizer)}",
        f"STATUS:{status}",
        "TRANSP:TRANSPARENT",  # a deadline, not a meeting: it does not block the day
        "END:VEVENT", "END:VCALENDAR",
    ]
    return "".join(_fold(line) + "\r\n" for line in lines).encode("utf-8")


def _mailto(address: str) -> str:
    """A CAL-ADDRESS as icalendar writes it: a URI, not TEXT (no escaping); nothing that
    would end the line."""
    return "mailto:" + "".join(c for c in address if c not in "\r\n")


def _date(d: date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def _text(value: str) -> str:
    """RFC 5545 TEXT escaping, in icalendar's order (a literal ``\\N`` is a line break too)."""
    return (value.replace("\\N", "\n").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def _fold(line: str, limit: int = 75) -> str:
    """Lines of at most 74 octets, continued after CRLF and a space; a character is never
    split, and neither is a backslash escape (icalendar's rule, for older clients)."""
    if line.isascii():  # one octet a character: cut by position
        pieces, at = [], 0
        while len(line) - at > limit - 1:
            end = at + limit - 1
            if line[end - 1] in "\\^" and end - 1 > at:
                end -= 1  # the escape starts the next line
            pieces.append(line[at:end])
            at = end
        pieces.append(line[at:])
        return "\r\n ".join(pieces)
    folded: list[str] = []
    current: list[str] = []
    count = 0
    for char in line:
        size = len(char.encode("utf-8"))
        if current and count + size >= limit:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                folded.append("".join(current))
                current, count = [carried], len(carried.encode("utf-8"))
            else:
                folded.append("".join(current))
                current, count = [], 0
        current.append(char)
        count += size
    if current:
        folded.append("".join(current))
    return "\r\n ".join(folded)
