"""The owner's calendar entry: one UID per handoff, updated on a new date, cancelled with it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from conftest import Workspace, make_forward, make_reply
from hypothesis import given, settings
from hypothesis import strategies as st

from nudger.outbound.invites import calendar_file


def _entry(sent) -> tuple[str, icalendar.Event]:
    [part] = [p for p in sent.msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") in ("REQUEST", "CANCEL") and part.get_content_charset() == "utf-8"
    cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    [event] = cal.walk("VEVENT")
    assert str(cal["method"]) == part.get_param("method")
    assert str(event["attendee"]) == "mailto:dana@acme.test", "the owner's own entry"
    assert str(event["organizer"]) == f"mailto:{sent.msg['Reply-To']}", "answers reach the handoff"
    return str(cal["method"]), event


def test_the_owner_gets_one_entry_that_moves_with_the_date_and_is_cancelled_with_the_handoff(ws: Workspace) -> None:
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    method, first = _entry(notice)
    assert method == "REQUEST"
    assert str(first["uid"]) == "handoff-1@acme.test"
    assert first.decoded("dtstart").isoformat() == "2026-11-27"
    assert str(first["summary"]) == "Due: #1 W-9 request"
    [receipt] = ws.sent_to("sam@acme.test", "receipt")
    assert not [p for p in receipt.msg.iter_attachments()], "the requester gets no entry"

    [sams] = ws.sent_to("sam@acme.test", "receipt")
    ws.deliver(make_reply(sams, "due 12/4", sender="sam@acme.test", date="Mon, 23 Nov 2026 11:00:00 -0600"))
    ws.run("2026-11-23T11:05")
    [moved] = ws.sent_to("dana@acme.test", "due_changed")
    method, second = _entry(moved)
    assert method == "REQUEST" and second["uid"] == first["uid"]
    assert second.decoded("dtstart").isoformat() == "2026-12-04"
    assert int(second["sequence"]) > int(first["sequence"])

    ws.deliver(make_reply(sams, "cancel", sender="sam@acme.test", date="Mon, 23 Nov 2026 12:00:00 -0600"))
    ws.run("2026-11-23T12:05")
    [cancelled] = ws.sent_to("dana@acme.test", "cancelled")
    method, third = _entry(cancelled)
    assert method == "CANCEL" and third["uid"] == first["uid"] and str(third["status"]) == "CANCELLED"
    assert int(third["sequence"]) > int(second["sequence"])


def test_icalendar_is_not_imported_by_a_run_with_nothing_to_write() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import nudger.cli, nudger.outbound.render, sys;"
                          "print('icalendar' in sys.modules, 'css_inline' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def _by_icalendar(method: str, uid: str, sequence: int, stamp: datetime, due: date, summary: str,
                  description: str, organizer: str, attendee: str) -> bytes:
    """The entry as nudger built it with icalendar before writing it directly: the reference."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//nudger//handoff due dates//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", due)
    event.add("dtend", due + timedelta(days=1))
    event.add("summary", summary)
    event.add("transp", "TRANSPARENT")
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("description", description)
    event.add("organizer", icalendar.vCalAddress(f"mailto:{organizer}"))
    event.add("attendee", icalendar.vCalAddress(f"mailto:{attendee}"),
              parameters={"RSVP": "FALSE", "PARTSTAT": "ACCEPTED"})
    cal.add_component(event)
    return bytes(cal.to_ical())


_WORDS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300) | st.text(
    st.sampled_from(list("ab ,;:\\\\^nN\r\n\té€😀\"'<>")), max_size=200) | st.text(
    st.sampled_from(list("ab ,;:\\\\^nN\r\n\t")), max_size=300)  # ASCII only: folded by position


@settings(max_examples=400, deadline=None)
@given(method=st.sampled_from(["REQUEST", "CANCEL"]), hid=st.integers(1, 10**9), domain=_WORDS,
       organizer=st.emails(), attendee=st.emails(),
       sequence=st.integers(0, 10**8),
       stamp=st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.sampled_from(
           [UTC, ZoneInfo("America/Chicago"), ZoneInfo("Asia/Kolkata")])),
       due=st.dates(date(2000, 1, 1), date(2100, 1, 1)), title=_WORDS, requester=_WORDS, reply=_WORDS)
def test_the_file_is_what_icalendar_writes(method: str, hid: int, domain: str, sequence: int, stamp: datetime,
                                           due: date, title: str, requester: str, reply: str, organizer: str,
                                           attendee: str) -> None:
    fields = {"method": method, "uid": f"handoff-{hid}@{domain}", "sequence": sequence, "stamp": stamp,
              "organizer": organizer, "attendee": attendee,
              "due": due, "summary": f"Due: #{hid} {title}",
              "description": f"Handoff #{hid} for {requester}. Reply to {reply} with done, due <date> or blocked."}
    assert calendar_file(**fields) == _by_icalendar(**fields)  # type: ignore[arg-type]


def test_a_long_unicode_title_folds_as_icalendar_folds_it() -> None:
    title = "Überweisung für die Lieferung — " + "sehr lange Betreffzeile mit Umlauten äöü, und Kommas; " * 4
    fields = {"method": "REQUEST", "uid": "handoff-7@acme.test", "sequence": 3, "due": date(2026, 12, 4),
              "organizer": "handoffs+7.abcdefghijklmnop@acme.test", "attendee": "dana@acme.test",
              "stamp": datetime(2026, 11, 23, 9, 5, 30, 123456, tzinfo=UTC), "summary": f"Due: #7 {title}",
              "description": "Handoff #7 for sam@acme.test."}
    ours = calendar_file(**fields)  # type: ignore[arg-type]
    assert ours == _by_icalendar(**fields)  # type: ignore[arg-type]
    assert max(len(line) for line in ours.split(b"\r\n")) <= 75
    [event] = icalendar.Calendar.from_ical(ours).walk("VEVENT")
    assert str(event["summary"]) == f"Due: #7 {title}"
