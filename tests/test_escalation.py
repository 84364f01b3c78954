"""An escalation carries the history and lets the person it went to act on the handoff."""

from __future__ import annotations

from conftest import Workspace, make_forward, make_reply


def overdue_until_escalated(ws: Workspace):
    ws.deliver(make_forward("@dana can you send them our W-9? due friday"))
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "ack", sender="dana@acme.test"))
    ws.run("2026-11-23T11:05")
    ws.deliver(make_reply(notice, "blocked waiting for the customer's tax id", sender="dana@acme.test",
                          date="Tue, 24 Nov 2026 10:00:00 -0600"))
    ws.run("2026-11-24T10:05")
    ws.deliver(make_reply(notice, "unblock", sender="dana@acme.test", date="Tue, 24 Nov 2026 15:00:00 -0600"))
    ws.run("2026-11-24T15:05")
    for day in ("2026-11-27", "2026-11-30", "2026-12-01", "2026-12-02"):  # Thanksgiving on the 26th
        ws.run(f"{day}T08:05")
    [escalation] = ws.sent_to("maria@acme.test", "escalation")
    return notice, escalation


def test_the_escalation_tells_the_story_and_goes_once(ws: Workspace) -> None:
    _, escalation = overdue_until_escalated(ws)
    assert escalation.msg["Date"].datetime.strftime("%a %d %H") == "Wed 02 08"  # 3 business days late
    text = " ".join(escalation.text.split())
    assert "3 business days past its due date" in text and "as Dana Numbers's manager" in text
    for told in ("asked for it", "confirmed, due Fri 27 Nov 2026", "was blocked", "waiting for the customer's tax id",
                 "unblocked it"):
        assert told in text, told
    assert "reassign @someone" in text
    ws.run("2026-12-03T08:05")
    assert len(ws.sent_to("maria@acme.test", "escalation")) == 1


def test_the_manager_may_reassign_from_the_escalation(ws: Workspace) -> None:
    _, escalation = overdue_until_escalated(ws)
    ws.deliver(make_reply(escalation, "reassign @lee", sender="maria@acme.test",
                          date="Wed, 02 Dec 2026 09:00:00 -0600"))
    ws.run("2026-12-02T09:05")
    [item] = ws.items()
    assert item["owner"] == "lee@acme.test"
    assert ws.sent_to("lee@acme.test", "new_handoff")
    assert ws.sent_to("dana@acme.test", "reassigned")
    assert ws.sent_to("sam@acme.test", "reassigned")


def test_the_managers_note_and_new_date_reach_the_owner(ws: Workspace) -> None:
    _, escalation = overdue_until_escalated(ws)
    ws.deliver(make_reply(escalation, "due 12/4\nDana, the customer agreed to Friday.", sender="maria@acme.test",
                          date="Wed, 02 Dec 2026 09:00:00 -0600"))
    ws.run("2026-12-02T09:05")
    assert ws.items()[0]["due"] == "2026-12-04"
    [moved] = ws.sent_to("dana@acme.test", "due_changed")
    assert ws.sent_to("sam@acme.test", "due_changed")
    ws.deliver(make_reply(escalation, "Please call me about this one.", sender="maria@acme.test",
                          date="Wed, 02 Dec 2026 10:00:00 -0600", message_id="<note-1@mail.acme.test>"))
    ws.run("2026-12-02T10:05")
    [note] = ws.sent_to("dana@acme.test", "note")
    assert "Please call me about this one." in note.text
    assert not ws.sent_to("sam@acme.test", "note")
    assert moved.kind == "due_changed"


def test_someone_it_was_not_escalated_to_may_not_act(ws: Workspace) -> None:
    _, escalation = overdue_until_escalated(ws)
    forwarded = make_reply(escalation, "reassign @lee", sender="lee@acme.test", date="Wed, 02 Dec 2026 09:00:00 -0600")
    ws.deliver(forwarded)
    ws.run("2026-12-02T09:05")
    assert ws.items()[0]["owner"] == "dana@acme.test"
    [refusal] = ws.sent_to("lee@acme.test", "refusal")
    assert "made for someone else" in refusal.text
