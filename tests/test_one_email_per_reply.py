"""One reply, one email to each person it concerns: several commands in one reply (`unblock`
then `ack friday`) reach the other side as one email that tells each change, in order."""

from __future__ import annotations

import json

from conftest import Workspace, make_forward, make_reply


def _blocked(ws: Workspace):
    ws.deliver(make_forward("@dana W-9 please, due 12/4"), arrived="2026-11-23T09:00")
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "blocked waiting for the signed form", sender="dana@acme.test",
                          message_id="<b@mail.acme.test>"), arrived="2026-11-23T10:00")
    ws.run("2026-11-23T10:05")
    assert len(ws.sent_to("sam@acme.test", "blocked")) == 1
    return notice


def _one_new_email_to_sam(ws: Workspace, before: int):
    new = ws.sent_to("sam@acme.test")[before:]
    assert [s.kind for s in new] == ["changes"], [s.kind for s in new]
    return new[0]


def test_unblock_and_ack_on_two_lines_are_one_email(ws: Workspace) -> None:
    notice = _blocked(ws)
    before = len(ws.sent_to("sam@acme.test"))
    ws.deliver(make_reply(notice, "unblocked\nack friday\ngot the form this morning", sender="dana@acme.test",
                          date="Mon, 23 Nov 2026 11:00:00 -0600", message_id="<u@mail.acme.test>"),
               arrived="2026-11-23T11:00")
    ws.run("2026-11-23T11:05")
    mail = _one_new_email_to_sam(ws, before)
    assert str(mail.msg["Subject"]) == "[#1] Unblocked, confirmed: W-9 request"
    text = " ".join(mail.text.split())
    assert text.index("is no longer blocked") < text.index("Dana Numbers confirmed #1")
    assert "moved the due date from Fri 4 Dec 2026 to Fri 27 Nov 2026" in text and "got the form this morning" in text
    # The unblock is told as of that step: still due 4 Dec, the date the ack then moved.
    assert "is back on it (due Fri 4 Dec 2026)" in text
    assert text.count("Hi Sam,") == 1 and "no longer blocked" in mail.html and "confirmed" in mail.html
    [item] = ws.items()
    assert (item["status"], item["due"]) == ("acknowledged", "2026-11-27")
    kinds = [e["kind"] for e in json.loads(ws.cli("show", "1", "--json").output)["timeline"]]
    assert kinds[-3:] == ["unblocked", "acknowledged", "due_changed"]


def test_unblocked_comma_ack_friday_on_one_line_is_both_commands(ws: Workspace) -> None:
    """The owner wrote both on one line: the ack and its date apply too (they were only
    relayed as the unblock's words: "They wrote: ack friday")."""
    notice = _blocked(ws)
    before = len(ws.sent_to("sam@acme.test"))
    ws.deliver(make_reply(notice, "unblocked, ack friday", sender="dana@acme.test",
                          date="Mon, 23 Nov 2026 11:00:00 -0600", message_id="<u@mail.acme.test>"),
               arrived="2026-11-23T11:00")
    ws.run("2026-11-23T11:05")
    mail = _one_new_email_to_sam(ws, before)
    assert "They wrote: ack friday" not in mail.text
    [item] = ws.items()
    assert (item["status"], item["due"]) == ("acknowledged", "2026-11-27")
    shown = json.loads(ws.cli("inspect", str(ws.inbox / "cur" / next(
        p.name for p in (ws.inbox / "cur").iterdir() if "u@mail" in p.read_text(errors="replace"))),
        "--json").output)
    assert [(c["name"], c["args"]) for c in shown["commands"]] == [("unblock", ""), ("ack", "friday")]


def test_reopen_and_a_new_date_reach_the_owner_as_one_email_with_the_calendar_entry(ws: Workspace) -> None:
    ws.deliver(make_forward("@dana W-9 please, due 12/4"), arrived="2026-11-23T09:00")
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "done", sender="dana@acme.test", message_id="<d@mail.acme.test>"),
               arrived="2026-11-23T10:00")
    ws.run("2026-11-23T10:05")
    [done] = ws.sent_to("sam@acme.test", "done")
    before = len(ws.sent_to("dana@acme.test"))
    ws.deliver(make_reply(done, "reopen\ndue 12/10\nBill needs the 2025 form", sender="sam@acme.test",
                          message_id="<r@mail.acme.test>"), arrived="2026-11-23T11:00")
    ws.run("2026-11-23T11:05")
    new = ws.sent_to("dana@acme.test")[before:]
    assert [s.kind for s in new] == ["changes"]
    mail = new[0]
    assert str(mail.msg["Subject"]) == "[#1] Reopened, new date: W-9 request"
    assert [p.get_filename() for p in mail.msg.iter_attachments()] == ["handoff-1.ics"]
    text = " ".join(mail.text.split())
    assert "reopened" in text.lower() and "Thu 10 Dec 2026" in text


def test_one_command_still_sends_its_own_kind(ws: Workspace) -> None:
    notice = _blocked(ws)
    ws.deliver(make_reply(notice, "unblock", sender="dana@acme.test", message_id="<u@mail.acme.test>"),
               arrived="2026-11-23T11:00")
    ws.run("2026-11-23T11:05")
    assert len(ws.sent_to("sam@acme.test", "unblocked")) == 1
    assert ws.sent_to("sam@acme.test", "changes") == []
