"""Whoever moves a handoff's date, by whichever command, the owner's calendar entry moves with it:
the same UID, a higher SEQUENCE, the new day, on an email the owner gets from that reply."""

from __future__ import annotations

import icalendar
from conftest import Sent, Workspace
from test_escalation import overdue_until_escalated


def _entry(sent: Sent) -> icalendar.Event:
    [part] = [p for p in sent.msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    assert str(cal["method"]) == "REQUEST"
    [event] = cal.walk("VEVENT")
    return event


def _words(sent: Sent) -> str:
    return " ".join(sent.text.split())


def _started(ws: Workspace) -> tuple[Sent, icalendar.Event]:
    notice = ws.handed_over()
    first = _entry(notice)
    assert first.decoded("dtstart").isoformat() == "2026-11-27"
    return notice, first


def _moved(first: icalendar.Event, later: icalendar.Event, day: str) -> None:
    assert str(later["uid"]) == str(first["uid"]) == "handoff-1@acme.test"
    assert int(later["sequence"]) > int(first["sequence"])
    assert later.decoded("dtstart").isoformat() == day
    assert later.decoded("dtend").isoformat() > day


def test_the_owners_ack_with_a_date_confirms_it_to_them_with_the_moved_entry(ws: Workspace) -> None:
    notice, first = _started(ws)
    before = len(ws.sent_to("dana@acme.test"))
    ws.answer(notice, "ack 12/4", "2026-11-23T11:05", sender="dana@acme.test", message_id="<ack@mail.acme.test>")
    new = ws.sent_to("dana@acme.test")[before:]
    assert [s.kind for s in new] == ["calendar_update"], "one email to the owner"
    [update] = new
    _moved(first, _entry(update), "2026-12-04")
    assert str(update.msg["Subject"]) == "[#1] Date changed: W-9 request"
    assert update.msg["In-Reply-To"] == "<ack@mail.acme.test>", "an answer to their own reply"
    assert update.msg["Auto-Submitted"] == "auto-replied"
    text = _words(update)
    assert 'You confirmed #1 "W-9 request" and moved its due date from Fri 27 Nov 2026 to Fri 4 Dec 2026.' in text
    assert "Also told: Sam Seller." in text
    [ack] = ws.sent_to("sam@acme.test", "acknowledged")
    assert "confirmed #1 \"W-9 request\" and moved the due date from Fri 27 Nov 2026 to Fri 4 Dec 2026" in _words(ack)
    assert not [p for p in ack.msg.iter_attachments()], "the requester gets no entry"


def test_an_ack_without_a_date_or_with_the_same_date_sends_the_owner_nothing(ws: Workspace) -> None:
    notice, _ = _started(ws)
    before = len(ws.sent_to("dana@acme.test"))
    ws.answer(notice, "ack friday", "2026-11-23T11:05", sender="dana@acme.test")
    assert ws.sent_to("dana@acme.test")[before:] == []
    [ack] = ws.sent_to("sam@acme.test", "acknowledged")
    assert "confirmed #1 \"W-9 request\", due Fri 27 Nov 2026" in _words(ack)


def test_the_owners_due_moves_their_entry_and_the_requesters_due_rides_on_its_news(ws: Workspace) -> None:
    notice, first = _started(ws)
    ws.answer(notice, "due 12/4", "2026-11-23T11:05", sender="dana@acme.test")
    [update] = ws.sent_to("dana@acme.test", "calendar_update")
    second = _entry(update)
    _moved(first, second, "2026-12-04")
    assert "You moved the due date of #1 \"W-9 request\" from Fri 27 Nov 2026 to Fri 4 Dec 2026." in _words(update)

    [receipt] = ws.sent_to("sam@acme.test", "receipt")
    before = len(ws.sent_to("dana@acme.test"))
    ws.answer(receipt, "due 12/8", "2026-11-23T12:05", sender="sam@acme.test", date="Mon, 23 Nov 2026 12:00:00 -0600")
    new = ws.sent_to("dana@acme.test")[before:]
    assert [s.kind for s in new] == ["due_changed"], "the news carries the entry: no second email"
    _moved(second, _entry(new[0]), "2026-12-08")


def test_unblock_then_ack_with_a_date_is_one_confirmation_with_the_entry(ws: Workspace) -> None:
    notice, first = _started(ws)
    ws.answer(notice, "blocked waiting for the signed form", "2026-11-23T11:05", message_id="<b@mail.acme.test>")
    before = len(ws.sent_to("dana@acme.test"))
    ws.answer(notice, "unblock\nack 12/4", "2026-11-23T12:05", date="Mon, 23 Nov 2026 12:00:00 -0600",
              message_id="<u@mail.acme.test>")
    new = ws.sent_to("dana@acme.test")[before:]
    assert [s.kind for s in new] == ["calendar_update"]
    _moved(first, _entry(new[0]), "2026-12-04")
    [changes] = ws.sent_to("sam@acme.test", "changes")
    text = _words(changes)
    assert "back on it (due Fri 27 Nov 2026)" in text, "the unblock as of its own step"
    assert "moved the due date from Fri 27 Nov 2026 to Fri 4 Dec 2026" in text


def test_each_step_of_a_changes_email_tells_the_date_as_of_that_step(ws: Workspace) -> None:
    notice, first = _started(ws)
    ws.answer(notice, "ack\ndue monday", "2026-11-23T11:05", sender="dana@acme.test")
    [changes] = ws.sent_to("sam@acme.test", "changes")
    text = _words(changes)
    confirmed = text.index('Dana Numbers confirmed #1 "W-9 request", due Fri 27 Nov 2026.')
    assert confirmed < text.index("from Fri 27 Nov 2026 to Mon 30 Nov 2026")
    assert ws.items()[0]["due"] == "2026-11-30"
    # The card is the email's, once, where it ended: not one per step.
    assert text.count("Requester:") == 1 and "Due: Mon 30 Nov 2026" in text
    assert changes.html.count('class="hc"') == 1
    [update] = ws.sent_to("dana@acme.test", "calendar_update")
    _moved(first, _entry(update), "2026-11-30")
    assert "You confirmed #1" in _words(update) and "to Mon 30 Nov 2026" in _words(update)


def test_the_owners_status_answer_carries_the_entry_instead_of_a_second_email(ws: Workspace) -> None:
    notice, first = _started(ws)
    before = len(ws.sent_to("dana@acme.test"))
    ws.answer(notice, "due 12/4\nstatus", "2026-11-23T11:05", sender="dana@acme.test")
    new = ws.sent_to("dana@acme.test")[before:]
    assert [s.kind for s in new] == ["status"]
    _moved(first, _entry(new[0]), "2026-12-04")


def test_a_managers_new_date_on_an_escalation_moves_the_owners_entry(ws: Workspace) -> None:
    notice, escalation = overdue_until_escalated(ws)
    [first] = [_entry(s) for s in ws.sent_to("dana@acme.test", "new_handoff")]
    before = len(ws.sent_to("dana@acme.test"))
    ws.answer(escalation, "due 12/4", "2026-12-02T09:05", sender="maria@acme.test",
              date="Wed, 02 Dec 2026 09:00:00 -0600")
    new = ws.sent_to("dana@acme.test")[before:]
    assert [s.kind for s in new] == ["due_changed"]
    _moved(first, _entry(new[0]), "2026-12-04")
    assert "from Fri 27 Nov 2026 to Fri 4 Dec 2026" in _words(new[0])


def test_a_calendar_clients_answer_to_the_entry_is_not_a_handoff_or_a_note(ws: Workspace) -> None:
    notice, _ = _started(ws)
    rsvp = (b"From: Dana Numbers <dana@acme.test>\r\nTo: " + str(notice.msg["Reply-To"]).encode() +
            b"\r\nSubject: Accepted: Due: #1 W-9 request @ Fri Nov 27, 2026\r\n"
            b"Date: Mon, 23 Nov 2026 11:00:00 -0600\r\nMessage-ID: <rsvp@mail.acme.test>\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
            b"--b\r\nContent-Type: text/plain\r\n\r\nDana Numbers has accepted this invitation.\r\n"
            b"--b\r\nContent-Type: text/calendar; charset=UTF-8; method=REPLY\r\n\r\n"
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:handoff-1@acme.test\r\n"
            b"ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana@acme.test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n--b--\r\n")
    before = len(ws.sent())
    ws.deliver(rsvp)
    ws.run("2026-11-23T11:05")
    assert len(ws.sent()) == before, "nothing relayed, nothing answered"
    assert len(ws.items()) == 1
    shown = ws.cli("inspect", "-", "--json", input=rsvp).output
    assert '"kind": "auto_reply"' in shown and "METHOD:REPLY" in shown


def test_a_reassign_by_someone_else_removes_the_old_owners_entry_and_gives_the_new_owner_one(ws: Workspace) -> None:
    notice, first = _started(ws)
    [receipt] = ws.sent_to("sam@acme.test", "receipt")
    ws.answer(receipt, "reassign @lee", "2026-11-23T11:05", sender="sam@acme.test")
    [told] = ws.sent_to("dana@acme.test", "reassigned")
    [part] = [p for p in told.msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    [gone] = cal.walk("VEVENT")
    assert (str(cal["method"]), str(gone["status"])) == ("CANCEL", "CANCELLED")
    assert str(gone["uid"]) == str(first["uid"]) and int(gone["sequence"]) > int(first["sequence"])
    assert str(gone["attendee"]) == "mailto:dana@acme.test"
    [lees] = ws.sent_to("lee@acme.test", "new_handoff")
    theirs = _entry(lees)
    assert str(theirs["attendee"]) == "mailto:lee@acme.test"
    assert theirs.decoded("dtstart").isoformat() == "2026-11-27"


def test_cancel_then_reopen_in_one_reply_keeps_the_owners_entry(ws: Workspace) -> None:
    """The last change with an entry decides: open again, so a REQUEST, never a CANCEL."""
    notice, first = _started(ws)
    [receipt] = ws.sent_to("sam@acme.test", "receipt")
    ws.answer(receipt, "cancel\nreopen", "2026-11-23T10:05", sender="sam@acme.test")
    [told] = [s for s in ws.sent_to("dana@acme.test") if s.kind in ("changes", "reopened")]
    later = _entry(told)  # asserts METHOD:REQUEST
    assert str(later["uid"]) == str(first["uid"]) and int(later["sequence"]) >= int(first["sequence"])
    assert later.decoded("dtstart") == first.decoded("dtstart")
