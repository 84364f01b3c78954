"""What the emails say, end to end: subjects, titles, truthful timing, dates before and after."""

from __future__ import annotations

from conftest import Workspace, make_forward, make_reply


def test_a_receipt_says_when_a_held_notice_will_reach_the_owner(ws: Workspace) -> None:
    ws.deliver(make_forward(date="Mon, 23 Nov 2026 21:00:00 -0600"), arrived="2026-11-23T21:00")
    ws.run("2026-11-23T21:05")
    [receipt] = ws.sent_to("sam@acme.test", "receipt")
    # Sam is in New York: Dana's day starts at 08:00 Chicago, 09:00 for Sam.
    assert "Dana Numbers (Tue 24 Nov, 09:00, when their day starts)" in " ".join(receipt.text.split())
    assert "Dana Numbers (Tue 24 Nov, 09:00, when their day starts)" in receipt.html


def test_a_receipt_in_business_hours_just_names_who_was_told(ws: Workspace) -> None:
    ws.deliver(make_forward())
    ws.run("2026-11-23T10:00")
    [receipt] = ws.sent_to("sam@acme.test", "receipt")
    assert "Also told: Dana Numbers." in receipt.text


def test_a_trailing_gateway_tag_leaves_the_title(ws: Workspace) -> None:
    ws.deliver(make_forward(subject="Fwd: W-9 request [EXT]"))
    ws.deliver(make_forward(subject="[EXTERNAL] FW: Price list (External)", message_id="<b@mail.acme.test>"))
    ws.run("2026-11-23T10:00")
    assert [i["title"] for i in ws.items()] == ["W-9 request", "Price list"]


def test_did_you_mean_has_no_question_mark_colon_and_an_ascii_subject(ws: Workspace) -> None:
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "dne", sender="dana@acme.test"))
    ws.run("2026-11-23T10:00")
    [dym] = ws.sent_to("dana@acme.test", "did_you_mean")
    raw = dym.path.read_bytes()
    subject = str(dym.msg["Subject"])
    assert subject == '[#1] Did you mean "done"? - W-9 request'
    assert b'\r\nSubject: [#1] Did you mean "done"? - W-9 request\r\n' in raw.split(b"\r\n\r\n", 1)[0], "plain ASCII"


def test_a_due_change_says_what_the_date_was_and_an_ack_does_not_echo_its_date(ws: Workspace) -> None:
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "ack monday", sender="dana@acme.test"))
    ws.run("2026-11-23T10:00")
    [ack] = ws.sent_to("sam@acme.test", "acknowledged")
    assert "moved the due date from Fri 27 Nov 2026 to Mon 30 Nov 2026" in " ".join(ack.text.split())
    assert "from Fri 27 Nov 2026 to <b>Mon 30 Nov 2026</b>" in ack.html
    assert "They wrote" not in ack.text, "the date is not relayed as words"
    ws.deliver(make_reply(notice, "due 12/4", sender="dana@acme.test", date="Mon, 23 Nov 2026 11:30:00 -0600"))
    ws.run("2026-11-23T11:35")
    [moved] = ws.sent_to("sam@acme.test", "due_changed")
    assert "from Mon 30 Nov 2026 to Fri 4 Dec 2026" in " ".join(moved.text.split())
