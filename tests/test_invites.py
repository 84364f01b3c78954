"""The owner's calendar entry: one UID per handoff, updated on a new date, cancelled with it."""

from __future__ import annotations

import icalendar
from conftest import Workspace, make_forward, make_reply


def _entry(sent) -> tuple[str, icalendar.Event]:
    [part] = [p for p in sent.msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") in ("PUBLISH", "CANCEL")
    cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    [event] = cal.walk("VEVENT")
    return str(cal["method"]), event


def test_the_owner_gets_one_entry_that_moves_with_the_date_and_is_cancelled_with_the_handoff(ws: Workspace) -> None:
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    method, first = _entry(notice)
    assert method == "PUBLISH"
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
    assert method == "PUBLISH" and second["uid"] == first["uid"]
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
