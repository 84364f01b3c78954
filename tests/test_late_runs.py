"""Runs that come late (an outage, a slow cron) send nothing stale, nothing at night, nothing twice."""

from __future__ import annotations

import json

from conftest import ORG_TOML, Workspace, make_forward, make_reply
from test_digest_reply import reply_to_digest

DAILY_SAM = ORG_TOML.replace('timezone = "America/New_York"\n', 'timezone = "America/New_York"\ndigest = "daily"\n', 1)


def test_no_reminder_after_an_outage_for_what_was_done_meanwhile(ws: Workspace) -> None:
    ws.deliver(make_forward("@dana W-9 please, due wednesday"), arrived="2026-11-23T09:00")
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "ack", sender="dana@acme.test", date="Mon, 23 Nov 2026 16:00:00 -0600"),
               arrived="2026-11-23T16:00")
    ws.deliver(make_reply(notice, "done", sender="dana@acme.test", date="Wed, 25 Nov 2026 09:30:00 -0600",
                          message_id="<done-1@mail.acme.test>"), arrived="2026-11-25T09:30")
    ws.run("2026-11-27T10:00")  # the first run in four days
    kinds = [s.kind for s in ws.sent_to("dana@acme.test")]
    assert "ack_reminder" not in kinds and "due_soon" not in kinds  # confirmed and done meanwhile
    assert ws.sent_to("sam@acme.test", "done")


def test_a_run_within_six_hours_still_sends_what_the_slot_owed(ws: Workspace) -> None:
    """The same as a 5-minute cron would have: the reminder was owed at 13:05."""
    ws.deliver(make_forward("@dana W-9 please, due wednesday"), arrived="2026-11-23T09:00")
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "ack", sender="dana@acme.test", date="Mon, 23 Nov 2026 14:00:00 -0600"),
               arrived="2026-11-23T14:00")
    ws.run("2026-11-23T15:05")
    assert len(ws.sent_to("dana@acme.test", "ack_reminder")) == 1


def test_a_digest_chosen_after_its_hour_starts_the_next_day(ws: Workspace) -> None:
    ws.deliver(make_forward(), arrived="2026-11-23T09:00")
    ws.run("2026-11-23T09:05")
    ws.deliver(reply_to_digest(ws, "Dana Numbers <dana@acme.test>", "daily", date="Mon, 23 Nov 2026 13:10:00 -0600"),
               arrived="2026-11-23T13:10")
    ws.run("2026-11-23T13:15")
    assert ws.sent_to("dana@acme.test", "daily_digest") == []  # not this morning's, at 13:15
    ws.run("2026-11-24T08:05")
    assert len(ws.sent_to("dana@acme.test", "daily_digest")) == 1


def test_held_mail_a_late_run_finds_at_night_waits_and_is_dated_when_sent(ws: Workspace) -> None:
    ws.deliver(make_forward(), arrived="2026-11-23T20:00")
    ws.run("2026-11-23T20:05")  # Dana's notice waits for Tuesday 08:00
    assert ws.sent_to("dana@acme.test") == []
    ws.run("2026-11-24T19:00")  # the next run comes after her hours
    assert ws.sent_to("dana@acme.test") == []
    ws.run("2026-11-25T08:00")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    assert notice.msg["Date"].datetime.strftime("%a %H:%M %z") == "Wed 08:00 -0600"


def test_a_held_digest_is_replaced_by_the_next_one(tmp_path) -> None:
    ws = Workspace(tmp_path, DAILY_SAM)
    ws.deliver(make_forward(), arrived="2026-11-23T09:00")
    ws.run("2026-11-23T09:05")
    ws.run("2026-11-24T19:00")  # Tuesday's digest is owed, but Sam's day is over: held
    ws.run("2026-11-25T07:05")  # Wednesday 08:05 in New York
    digests = ws.sent_to("sam@acme.test", "daily_digest")
    assert len(digests) == 1 and "Wed" in str(digests[0].msg["Date"])
    rows = json.loads(ws.cli("outbox", "--all", "--json").output)
    assert [r["status"] for r in rows if r["kind"] == "daily_digest"] == ["superseded", "sent"]


def _daily_then_weekly(tmp_path, runs: list[str]) -> list:
    tmp_path.mkdir()
    ws = Workspace(tmp_path, DAILY_SAM)
    ws.deliver(make_forward("@dana W-9 please, due friday"), arrived="2026-11-23T09:00")
    ws.run("2026-11-23T09:05")
    for when in runs:
        ws.run(when)
    ws.deliver(reply_to_digest(ws, "Sam Seller <sam@acme.test>", "weekly", date="Tue, 24 Nov 2026 09:05:00 -0500"),
               arrived="2026-11-24T08:05")  # 09:05 in New York, after his 08:00 digest
    ws.run("2026-11-24T08:10")
    ws.run("2026-12-01T09:00")
    return [s.kind for s in ws.sent_to("sam@acme.test") if s.kind.endswith("_digest")]


def test_a_digest_owed_before_a_new_choice_is_sent_whether_or_not_a_run_came_between(tmp_path) -> None:
    """Sam is daily; his Tuesday 08:00 digest was owed before he replied `weekly` at 09:05.
    A run every few minutes sent it at 08:05; a run that came only after his reply sends it
    too: the same set, whatever the cron."""
    prompt = _daily_then_weekly(tmp_path / "prompt", ["2026-11-24T07:05"])  # 08:05 in New York
    late = _daily_then_weekly(tmp_path / "late", [])
    assert prompt == late
    assert prompt == ["daily_digest", "weekly_digest"]  # Tuesday's daily (Monday's was empty), then weekly


def _date_of(sent) -> str:
    return sent.msg["Date"].datetime.strftime("%a %H:%M")


def test_a_late_run_gives_the_owner_the_whole_ack_window_after_the_notice(ws: Workspace) -> None:
    """The forward came at 09:00, but the cron was down until 13:30: Dana is told at 13:30,
    and her 4 business hours to confirm start then (not at 09:00, which would remind her in
    the same run as the notice)."""
    ws.deliver(make_forward("@dana W-9 please, due friday"), arrived="2026-11-23T09:00")
    ws.run("2026-11-23T13:30")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    assert _date_of(notice) == "Mon 13:30"
    assert ws.sent_to("dana@acme.test", "ack_reminder") == []
    ws.run("2026-11-23T17:25")
    assert ws.sent_to("dana@acme.test", "ack_reminder") == []  # 3h55 after she was told
    ws.run("2026-11-23T17:30")
    [reminder] = ws.sent_to("dana@acme.test", "ack_reminder")
    assert _date_of(reminder) == "Mon 17:30"
    show = json.loads(ws.cli("show", "1", "--json", "--now", "2026-11-23T17:31").output)
    assert show["status"] == "open"


def test_a_notice_held_for_business_hours_starts_the_ack_window_when_it_is_sent(ws: Workspace) -> None:
    """Arrived Monday 17:00, first seen by a 20:00 run: the notice waits for Tuesday 08:00 and
    the reminder comes 4 business hours after that, at 12:00 (not 11:00, counted from 17:00)."""
    ws.deliver(make_forward("@dana W-9 please, due friday"), arrived="2026-11-23T17:00")
    ws.run("2026-11-23T20:00")
    ws.run("2026-11-24T08:00")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    assert _date_of(notice) == "Tue 08:00"
    ws.run("2026-11-24T11:00")
    assert ws.sent_to("dana@acme.test", "ack_reminder") == []
    upcoming = json.loads(ws.cli("upcoming", "--json", "--now", "2026-11-24T11:00").output)
    assert [u["at"] for u in upcoming if u["kind"] == "ack_reminder"] == ["2026-11-24T12:00:00-06:00"]
    ws.run("2026-11-24T12:00")
    [reminder] = ws.sent_to("dana@acme.test", "ack_reminder")
    assert _date_of(reminder) == "Tue 12:00"


def test_a_notice_that_waits_in_the_outbox_pushes_the_reminder_back(ws: Workspace) -> None:
    """A run that queues the notice and schedules before delivering must not owe the
    reminder yet: the notice has not reached the owner."""
    ws.deliver(make_forward("@dana W-9 please, due friday"), arrived="2026-11-23T08:00")
    ws.run("2026-11-23T12:30")  # the reminder from 08:00 would be owed at 12:00
    kinds = [s.kind for s in ws.sent_to("dana@acme.test")]
    assert kinds == ["new_handoff"]
