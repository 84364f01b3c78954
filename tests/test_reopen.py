"""Reopening (review): a date that passed while the handoff was closed is not kept, so the
owner is not chased and escalated the morning after; and the requester's words end as a
sentence before ours begin."""

from __future__ import annotations

from conftest import Workspace, make_forward, make_reply


def _reopened(ws: Workspace, words: str, when: str, date: str) -> list:
    ws.deliver(make_forward("@dana W-9 please, due friday"), arrived="2026-11-23T09:00")
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "done", sender="dana@acme.test", date="Tue, 24 Nov 2026 10:00:00 -0600"),
               arrived="2026-11-24T10:00")
    ws.run("2026-11-24T10:05")
    [done] = ws.sent_to("sam@acme.test", "done")
    ws.deliver(make_reply(done, words, sender="sam@acme.test", date=date), arrived=when)
    ws.run(when.replace(":00", ":05", 1) if when.endswith(":00") else when)
    return ws.sent_to("dana@acme.test", "reopened")


def test_a_reopened_handoff_whose_date_passed_gets_the_turnaround_from_today(ws: Workspace) -> None:
    [reopened] = _reopened(ws, "reopen\nthe quote had the wrong quantity", "2026-12-07T10:00",
                           "Mon, 07 Dec 2026 11:00:00 -0500")
    text = " ".join(reopened.text.split())
    assert "the quote had the wrong quantity. It was due Fri 27 Nov 2026, which has passed" in text
    assert "now due Thu 10 Dec 2026" in text  # accounting's 3 business days from Monday 7 Dec
    [item] = [i for i in ws.items() if i["id"] == 1]
    assert item["due"] == "2026-12-10" and item["status"] == "open"
    ws.run("2026-12-08T08:05")
    ws.run("2026-12-09T08:05")
    assert ws.sent_to("dana@acme.test", "overdue") == [] and ws.sent_to("maria@acme.test", "escalation") == []


def test_a_reopened_handoff_keeps_a_date_still_ahead(ws: Workspace) -> None:
    [reopened] = _reopened(ws, "reopen", "2026-11-25T10:00", "Wed, 25 Nov 2026 11:00:00 -0500")
    assert "It is due Fri 27 Nov 2026" in " ".join(reopened.text.split())


def test_a_new_date_relays_the_note_written_under_it(ws: Workspace) -> None:
    """Review: `due friday` with "sorry, month-end close." below it told Sam only the dates."""
    ws.deliver(make_forward("@dana W-9 please, due wednesday"), arrived="2026-11-23T09:00")
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "due friday\nsorry, month-end close.", sender="dana@acme.test"),
               arrived="2026-11-23T11:00")
    ws.run("2026-11-23T11:05")
    [moved] = ws.sent_to("sam@acme.test", "due_changed")
    text = " ".join(moved.text.split())
    assert "to Fri 27 Nov 2026" in text and "They wrote: sorry, month-end close" in text
    assert "They wrote: friday" not in text
