"""`preview`, `upcoming` and `show`'s next email: what will go out, seen before it goes."""

from __future__ import annotations

import json

from conftest import Workspace, make_forward


def started(ws: Workspace) -> None:
    ws.deliver(make_forward("@dana can you send them our W-9? due friday"))
    ws.run("2026-11-23T09:05")


def test_upcoming_lists_what_the_schedule_owes_in_local_time(ws: Workspace) -> None:
    started(ws)
    rows = json.loads(ws.cli("upcoming", "--days", "14", "--now", "2026-11-23T09:10", "--json").output)
    kinds = [(r["kind"], r["to"]) for r in rows]
    assert kinds[0] == ("ack_reminder", "dana@acme.test")
    assert rows[0]["at"] == "2026-11-23T13:05:00-06:00"  # 4 business hours after the notice
    assert ("due_soon", "dana@acme.test") in kinds and ("overdue", "dana@acme.test") in kinds
    assert ("overdue_notice", "sam@acme.test") in kinds and ("escalation", "maria@acme.test") in kinds
    notice = next(r for r in rows if r["kind"] == "overdue_notice")
    assert notice["at"].endswith("-05:00")  # Sam is in New York: his own time
    assert all(r["handoff"] == 1 for r in rows if r["kind"] != "team_digest")
    assert ws.sent_to("dana@acme.test", "ack_reminder") == []  # nothing was sent or recorded


def test_show_tells_the_next_scheduled_email(ws: Workspace) -> None:
    started(ws)
    shown = json.loads(ws.cli("show", "1", "--json", "--now", "2026-11-23T09:10").output)
    assert shown["next"]["kind"] == "ack_reminder" and shown["next"]["to"] == "dana@acme.test"
    assert "next:      ack_reminder to dana@acme.test" in ws.cli("show", "1", "--now", "2026-11-23T09:10").output


def test_preview_writes_any_kind_without_sending_or_recording_it(ws: Workspace, tmp_path) -> None:
    started(ws)
    before = json.loads(ws.cli("outbox", "--all", "--json").output)
    html = tmp_path / "overdue.html"
    out = ws.cli("preview", "overdue", "--to", "dana@acme.test", "--handoff", "1",
                 "--now", "2026-11-30T08:00", "--html", str(html)).output
    assert "Subject: [#1] Overdue: W-9 request" in out and "was due Fri 27 Nov 2026" in " ".join(out.split())
    assert "<html" in html.read_text()
    digest = ws.cli("preview", "daily_digest", "--to", "dana@acme.test", "--now", "2026-11-24T08:00").output
    assert "Waiting for your ack" in digest and "#1 W-9 request" in digest
    team = ws.cli("preview", "team_digest", "--to", "dana@acme.test", "--now", "2026-11-30T08:00").output
    assert "Team Accounting" in team and "Opened" in team
    assert json.loads(ws.cli("outbox", "--all", "--json").output) == before


def test_preview_explains_what_it_needs(ws: Workspace) -> None:
    out = ws.cli("preview", "nonsense", "--to", "dana@acme.test", expect=2)
    assert "unknown kind 'nonsense'" in out.stderr and "daily_digest" in out.stderr
    out = ws.cli("preview", "overdue", "--to", "dana@acme.test", expect=2)
    assert "pass --handoff ID" in out.stderr
