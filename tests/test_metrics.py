"""The team digest's figures, from a hand-written history with every expected value worked
out by hand below: two weeks of accounting, some sales beside it, and events after the
week that must not change it."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import ORG_TOML

from nudger.config.reader import config_from_dict
from nudger.state.metrics import NeedsSomeone, OpenHandoff, TeamWeek, team_week
from nudger.state.store import Store, iso

CHICAGO = ZoneInfo("America/Chicago")

# The test org (America/Chicago, business hours 08:00-18:00 Mon-Fri, US holidays: none in
# these weeks; DST ends on Sunday 1 November, inside a weekend) plus Pat in Los Angeles.
TOML = ORG_TOML + """
[[people]]
email = "pat@acme.test"
name = "Pat Payables"
handle = "pat"
team = "accounting"
timezone = "America/Los_Angeles"
"""

SAM, MARIA, DANA, LEE, PAT = (f"{n}@acme.test" for n in ("sam", "maria", "dana", "lee", "pat"))
RITA = "rita@acme.test"  # a requester who is not in the directory

LAST_WEEK = (datetime(2026, 10, 19, tzinfo=CHICAGO), datetime(2026, 10, 26, tzinfo=CHICAGO))
THIS_WEEK = (datetime(2026, 10, 26, tzinfo=CHICAGO), datetime(2026, 11, 2, tzinfo=CHICAGO))


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHICAGO)


class History:
    """Writes handoffs and events with SQL, each event with the state after it, the way the
    store does: the handoffs row holds the current state, the event a copy of it."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def handoff(self, hid: int, title: str, requester: str, at: str, *, owner: str | None,
                team: str | None, due: str, rush: bool = False) -> None:
        when = iso(local(at))
        self.conn.execute(
            "insert into handoffs (id, title, status, owner, requester, team, due, priority, rush,"
            " created, updated, watchers) values (?, ?, 'open', ?, ?, ?, ?, 'normal', ?, ?, ?, '[]')",
            [hid, title, owner, requester, team, due, int(rush), when, when])
        self.event(hid, at, "created", actor=requester, data={"title": title})
        if owner:
            self.event(hid, at, "owner_assigned", actor=requester, data={"from": None, "to": owner})

    def event(self, hid: int, at: str, kind: str, *, actor: str | None = None, words: str | None = None,
              data: dict | None = None, **changes: object) -> None:
        if changes:
            sets = ", ".join(f"{k} = ?" for k in changes)
            self.conn.execute(f"update handoffs set {sets}, updated = ? where id = ?",
                              [*changes.values(), iso(local(at)), hid])
        status, owner, team, due, priority, rush = self.conn.execute(
            "select status, owner, team, due, priority, rush from handoffs where id = ?", [hid]).fetchone()
        self.conn.execute(
            "insert into events (handoff_id, at, recorded, kind, actor, data, words, status, owner, team,"
            " due, priority, rush) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [hid, iso(local(at)), iso(local(at)), kind, actor, json.dumps(data or {}), words, status, owner,
             team, due, priority, rush])


def write_history(h: History) -> None:
    """Everything up to the end of this week (Monday 2 November, 00:00 Chicago)."""
    # --- last week: Mon 19 - Sun 25 October ---------------------------------------------
    # 1: asked Monday, acked in 1.5 h, done on time, thanked.
    h.handoff(1, "W-9 for Initech", SAM, "2026-10-19 09:00", owner=DANA, team="accounting", due="2026-10-22")
    h.event(1, "2026-10-19 10:30", "acknowledged", actor=DANA, status="acknowledged")
    h.event(1, "2026-10-21 15:00", "done", actor=DANA, status="done")
    h.event(1, "2026-10-21 16:00", "thanked", actor=SAM, words="thanks Dana!")
    # 2: rush, acked in 4 h, done a day late; thanked at midnight as this week began.
    h.handoff(2, "Credit memo for Globex", MARIA, "2026-10-20 10:00", owner=LEE, team="accounting",
              due="2026-10-21", rush=True)
    h.event(2, "2026-10-20 14:00", "acknowledged", actor=LEE, status="acknowledged")
    h.event(2, "2026-10-22 11:00", "done", actor=LEE, status="done")
    h.event(2, "2026-10-26 00:00", "thanked", actor=MARIA, words="thank you")
    # 3: Dana acks in half an hour, then hands it to Lee on Friday at 17:00; Lee acks on
    # Monday at 09:00 (2 business hours: Fri 17-18, Mon 08-09), done Tuesday, thanked.
    h.handoff(3, "Vendor form for Hooli", SAM, "2026-10-23 16:00", owner=DANA, team="accounting",
              due="2026-10-28")
    h.event(3, "2026-10-23 16:30", "acknowledged", actor=DANA, status="acknowledged")
    h.event(3, "2026-10-23 17:00", "reassigned", actor=DANA, data={"from": DANA, "to": LEE},
            status="open", owner=LEE)
    h.event(3, "2026-10-26 09:00", "acknowledged", actor=LEE, status="acknowledged")
    h.event(3, "2026-10-27 12:00", "done", actor=LEE, status="done")
    h.event(3, "2026-10-27 13:00", "thanked", actor=SAM, words="you saved the deal")
    # 4: acked in half an hour, blocked since Thursday 22nd, due the 23rd.
    h.handoff(4, "Refund for Umbrella", RITA, "2026-10-21 09:00", owner=LEE, team="accounting",
              due="2026-10-23")
    h.event(4, "2026-10-21 09:30", "acknowledged", actor=LEE, status="acknowledged")
    h.event(4, "2026-10-22 10:00", "blocked", actor=LEE, words="waiting for the customer's bank details",
            status="blocked")
    # 11 (sales): Sam is in New York; created 06:30 Chicago (07:30 NY), acked 07:30 Chicago
    # (08:30 NY): half a business hour on Sam's clock, none on Chicago's.
    h.handoff(11, "Sales deck review", MARIA, "2026-10-20 06:30", owner=SAM, team="sales", due="2026-10-23")
    h.event(11, "2026-10-20 07:30", "acknowledged", actor=SAM, status="acknowledged")
    h.event(11, "2026-10-21 09:00", "done", actor=SAM, status="done")

    # --- this week: Mon 26 October - Sun 1 November ------------------------------------
    # 5: a sales handoff Maria acks (a sales ack), moved to Dana in accounting on Wednesday
    # 09:00, acked 11:00, done Friday 19:30 Chicago (Saturday 00:30 UTC: still Friday for
    # Dana, so on time). Not thanked this week.
    h.handoff(5, "Quote review for Initrode", SAM, "2026-10-26 10:00", owner=MARIA, team="sales",
              due="2026-10-30")
    h.event(5, "2026-10-26 11:00", "acknowledged", actor=MARIA, status="acknowledged")
    h.event(5, "2026-10-28 09:00", "reassigned", actor=MARIA, data={"from": MARIA, "to": DANA},
            status="open", owner=DANA, team="accounting")
    h.event(5, "2026-10-28 11:00", "acknowledged", actor=DANA, status="acknowledged")
    h.event(5, "2026-10-30 19:30", "done", actor=DANA, status="done")
    # 6: rush; Dana declines it to Lee at 10:00; Lee replies `ack thursday` at 15:00: two
    # events of one message, at one instant (the later one's state is the one that stands).
    # Overdue since Thursday 29th.
    h.handoff(6, "Statement for Stark", MARIA, "2026-10-27 09:00", owner=DANA, team="accounting",
              due="2026-10-28", rush=True)
    h.event(6, "2026-10-27 10:00", "declined", actor=DANA, data={"from": DANA, "to": LEE}, owner=LEE)
    h.event(6, "2026-10-27 15:00", "acknowledged", actor=LEE, status="acknowledged")
    h.event(6, "2026-10-27 15:00", "due_changed", actor=LEE, data={"from": "2026-10-28", "to": "2026-10-29"},
            due="2026-10-29")
    # 7: sent with no owner and no team; Sam's answer names Pat (accounting) and makes it
    # rush; Pat declines it back with no one to take it.
    h.handoff(7, "Tax exemption certificate", SAM, "2026-10-28 12:00", owner=None, team=None,
              due="2026-11-04")
    h.event(7, "2026-10-28 13:00", "owner_assigned", actor=SAM, data={"from": None, "to": PAT},
            owner=PAT, team="accounting")
    h.event(7, "2026-10-28 13:00", "rush_changed", actor=SAM, data={"from": False, "to": True}, rush=1)
    h.event(7, "2026-10-29 10:00", "declined", actor=PAT, data={"from": PAT, "to": None}, owner=None)
    # 8: rush, owned by Pat in Los Angeles, due Sunday 1 November: at the week's end
    # (Mon 00:00 Chicago = Sun 22:00 in LA) it is still the 1st for Pat, so not overdue.
    h.handoff(8, "Wire details for Acme Corp", RITA, "2026-10-29 11:00", owner=PAT, team="accounting",
              due="2026-11-01", rush=True)
    # 9: rush, cancelled the next day.
    h.handoff(9, "Payment plan for Vandelay", SAM, "2026-10-29 09:00", owner=DANA, team="accounting",
              due="2026-11-05", rush=True)
    h.event(9, "2026-10-30 10:00", "cancelled", actor=SAM, status="cancelled")
    # 10 (sales): rush, acked in 1.5 h, done, thanked.
    h.handoff(10, "Demo for Soylent", SAM, "2026-10-27 09:00", owner=MARIA, team="sales",
              due="2026-10-30", rush=True)
    h.event(10, "2026-10-27 10:30", "acknowledged", actor=MARIA, status="acknowledged")
    h.event(10, "2026-10-29 09:00", "done", actor=MARIA, status="done")
    h.event(10, "2026-10-29 10:00", "thanked", actor=SAM, words="thx")
    # 12: acked in 3 h, done Tuesday, thanked, reopened, acked again, done Thursday (a day
    # after its due date): one completion, judged at Thursday's done, with no thanks after it.
    h.handoff(12, "Bank letter for Wayne", MARIA, "2026-10-26 09:00", owner=DANA, team="accounting",
              due="2026-10-28")
    h.event(12, "2026-10-26 12:00", "acknowledged", actor=DANA, status="acknowledged")
    h.event(12, "2026-10-27 10:00", "done", actor=DANA, status="done")
    h.event(12, "2026-10-27 10:30", "thanked", actor=MARIA, words="great")
    h.event(12, "2026-10-27 11:00", "reopened", actor=MARIA, status="open")
    h.event(12, "2026-10-27 11:30", "acknowledged", actor=DANA, status="acknowledged")
    h.event(12, "2026-10-29 16:00", "done", actor=DANA, status="done")


def write_later_events(h: History) -> None:
    """What happened from the week's end on: none of it may change that week's figures."""
    # At the end's very second: not before it, so not this week's.
    h.event(5, "2026-11-02 00:00", "thanked", actor=SAM, words="thanks!")
    h.event(12, "2026-11-02 00:00", "rush_changed", actor=MARIA, data={"from": False, "to": True}, rush=1)
    h.handoff(13, "Collections call for Cyberdyne", SAM, "2026-11-02 08:30", owner=LEE, team="accounting",
              due="2026-11-04")
    h.event(6, "2026-11-02 09:00", "done", actor=LEE, status="done")
    h.event(8, "2026-11-02 09:00", "due_changed", actor=PAT, data={"from": "2026-11-01", "to": "2026-11-10"},
            due="2026-11-10")
    h.event(4, "2026-11-02 10:00", "unblocked", actor=LEE, data={"to": "acknowledged"}, status="acknowledged")
    h.event(4, "2026-11-02 11:00", "blocked", actor=LEE, words="the bank wants a form", status="blocked")
    h.event(7, "2026-11-02 00:00", "owner_assigned", actor=SAM, data={"from": None, "to": DANA}, owner=DANA)


@pytest.fixture
def config():
    return config_from_dict(tomllib.loads(TOML), env={})


@pytest.fixture
def store(tmp_path: Path):
    store = Store.open(tmp_path / "state" / "nudger.db")
    with store.transaction():
        write_history(History(store.db.conn))
    yield store
    store.close()


def at(text: str) -> datetime:
    return local(text).astimezone(UTC)


def test_accounting_this_week(store: Store, config) -> None:
    week = team_week(store, config, "accounting", *THIS_WEEK)
    assert (week.team, week.start, week.end) == ("accounting", *THIS_WEEK)
    # Created this week, for the first team in their history: 6, 7 (its team came with
    # Sam's answer), 8, 9, 12. Not 5: it was opened in sales.
    assert week.opened == 5
    # Rush as they stand at the end: 6 maria, 7 sam (made rush by the answer), 8 rita,
    # 9 sam; 12 is not. Most first, ties by email.
    assert week.rush_by_requester == ((SAM, 2), (MARIA, 1), (RITA, 1))
    # Done 3 (done, accounting's since Wednesday), 5, 12 (done twice: one handoff);
    # cancelled 9.
    assert (week.closed, week.done) == (4, 3)
    # First acks after the owner was given, in business hours:
    #   3: reassigned Fri 23rd 17:00 -> Mon 09:00 = 1 + 1 (the weekend skipped) = 2
    #   5: reassigned Wed 09:00 -> 11:00 = 2 (Maria's Monday ack was sales')
    #   6: declined to Lee Tue 10:00 -> 15:00 = 5
    #  12: created Mon 09:00 -> 12:00 = 3 (the ack after the reopen is not a first ack)
    # median of 2, 2, 3, 5 = 2.5
    assert week.median_ack_hours == 2.5
    # Creation to completion, in the owner's business hours:
    #   3: Fri 16:00 -> Tue 12:00 = 2 + 10 + 4 = 16
    #   5: Mon 10:00 -> Fri 19:30 = 8 + 10 + 10 + 10 + 10 (19:30 is after hours) = 48
    #  12: Mon 09:00 -> Thu 16:00 = 9 + 10 + 10 + 8 = 37
    # median = 37
    assert week.median_done_hours == 37.0
    # On time: 3 (27th <= 28th), 5 (Fri 30th for Dana, though the 31st in UTC); late: 12
    # (the 29th, due the 28th; its first done on the 27th would have been on time).
    assert week.on_time_rate == 2 / 3
    # Thanks: 2 (at Monday 00:00, the week's first second), 3, 12. Not 10 (sales), not 5's
    # (at the week's end, so next week's).
    assert week.thanks_given == 3
    # Completions with no thanks after them: 5, and 12 (thanked before its last done).
    assert week.done_not_thanked == 2
    assert week.top_helpers == ((DANA, 2), (LEE, 1))
    # Open at the end: 4 (blocked, due 23rd: overdue), 6 (acked, due 29th: overdue),
    # 7 (no owner, due 4 Nov), 8 (due 1 Nov, and still the 1st for Pat in LA).
    assert (week.open_now, week.overdue_now) == (4, 2)
    assert week.oldest_open == (
        OpenHandoff(4, "Refund for Umbrella", LEE, at("2026-10-21 09:00"), date(2026, 10, 23), "blocked"),
        OpenHandoff(6, "Statement for Stark", LEE, at("2026-10-27 09:00"), date(2026, 10, 29), "acknowledged"),
        OpenHandoff(7, "Tax exemption certificate", None, at("2026-10-28 12:00"), date(2026, 11, 4), "open"),
        OpenHandoff(8, "Wire details for Acme Corp", PAT, at("2026-10-29 11:00"), date(2026, 11, 1), "open"),
    )
    assert week.needs_someone == (
        NeedsSomeone(4, "Refund for Umbrella",
                     "blocked: waiting for the customer's bank details; overdue (due 2026-10-23)",
                     LEE, "blocked", date(2026, 10, 23)),
        NeedsSomeone(6, "Statement for Stark", "overdue (due 2026-10-29)", LEE, "acknowledged",
                     date(2026, 10, 29)),
        NeedsSomeone(7, "Tax exemption certificate", "no owner", None, "open", date(2026, 11, 4)),
    )
    assert not week.is_empty


def test_accounting_last_week_beside_this_one(store: Store, config) -> None:
    week = team_week(store, config, "accounting", *THIS_WEEK)
    last = week.previous
    assert isinstance(last, TeamWeek) and last.previous is None
    assert (last.start, last.end) == LAST_WEEK  # seven days back on the wall clock, across DST
    # Created: 1, 2, 3, 4.
    assert last.opened == 4
    assert last.rush_by_requester == ((MARIA, 1),)
    # Done: 1 (on time), 2 (late).
    assert (last.closed, last.done) == (2, 2)
    # Acks: 1: 09:00 -> 10:30 = 1.5; 2: 10:00 -> 14:00 = 4; 3: Dana 16:00 -> 16:30 = 0.5;
    # 4: 09:00 -> 09:30 = 0.5. Median of 0.5, 0.5, 1.5, 4 = 1.0
    assert last.median_ack_hours == 1.0
    # 1: Mon 09:00 -> Wed 15:00 = 9 + 10 + 7 = 26; 2: Tue 10:00 -> Thu 11:00 = 8 + 10 + 3 = 21
    assert last.median_done_hours == 23.5
    assert last.on_time_rate == 0.5
    # Thanks: 1. 2's came at this week's first second.
    assert (last.thanks_given, last.done_not_thanked) == (1, 1)
    assert last.top_helpers == ((DANA, 1), (LEE, 1))
    # Open at last week's end: 3 (Lee's, due the 28th), 4 (blocked, overdue).
    assert (last.open_now, last.overdue_now) == (2, 1)
    assert [h.id for h in last.oldest_open] == [4, 3]
    assert [(n.id, n.why) for n in last.needs_someone] == [
        (4, "blocked: waiting for the customer's bank details; overdue (due 2026-10-23)")]


def test_sales_counts_only_what_happened_while_in_sales(store: Store, config) -> None:
    week = team_week(store.db.conn, config, "sales", *THIS_WEEK)  # a bare connection works too
    # Opened: 5 (moved to accounting later) and 10. Closed: 10 only (5 was done in accounting).
    assert (week.opened, week.closed, week.done) == (2, 1, 1)
    assert week.rush_by_requester == ((SAM, 1),)
    # Acks: 5 (Maria, 10:00 -> 11:00 = 1) and 10 (09:00 -> 10:30 = 1.5).
    assert week.median_ack_hours == 1.25
    # 10: Tue 09:00 -> Thu 09:00 = 9 + 10 + 1 = 20, on time, thanked.
    assert (week.median_done_hours, week.on_time_rate, week.thanks_given, week.done_not_thanked) == (
        20.0, 1.0, 1, 0)
    assert (week.open_now, week.overdue_now, week.oldest_open, week.needs_someone) == (0, 0, (), ())
    # Last week, 11: acked 30 minutes into Sam's New York business day (none on Chicago's).
    assert week.previous is not None and week.previous.median_ack_hours == 0.5
    assert (week.previous.opened, week.previous.closed) == (1, 1)


def test_a_week_reads_the_same_after_later_events(store: Store, config) -> None:
    """As of ``end``: what happened from then on (and the handoffs table's newer current
    state) changes nothing, so a late digest run sends the same figures."""
    before = team_week(store, config, "accounting", *THIS_WEEK)
    sales_before = team_week(store, config, "sales", *THIS_WEEK)
    with store.transaction():
        write_later_events(History(store.db.conn))
    assert store.handoff(6).status == "done" and store.handoff(4).status == "blocked"
    assert team_week(store, config, "accounting", *THIS_WEEK) == before
    assert team_week(store, config, "sales", *THIS_WEEK) == sales_before
    # The next week does see them: 5's thanks at 00:00, 6 done, 13 opened.
    following = team_week(store, config, "accounting", THIS_WEEK[1], datetime(2026, 11, 9, tzinfo=CHICAGO))
    assert (following.opened, following.done, following.thanks_given) == (1, 1, 1)
    assert following.previous == replace(before, previous=None)


def test_a_team_with_nothing_that_week_is_empty(store: Store, config) -> None:
    week = team_week(store, config, "support", *THIS_WEEK)
    assert week.is_empty and week.previous is not None and week.previous.is_empty
    assert (week.median_ack_hours, week.median_done_hours, week.on_time_rate) == (None, None, None)
    assert (week.rush_by_requester, week.top_helpers) == ((), ())
    # A team name is read as the config spells it (an alias works too).
    assert team_week(store, config, "Finance", *THIS_WEEK) == team_week(store, config, "accounting", *THIS_WEEK)


def test_top_helpers_and_oldest_open_stop_at_five(tmp_path: Path, config) -> None:
    store = Store.open(tmp_path / "n.db")
    h = History(store.db.conn)
    owners = [f"owner{n}@acme.test" for n in range(7)]
    hid = 0
    for n, owner in enumerate(owners):  # owner0 finishes 1, owner1 2, ... owner6 finishes 1 again
        for _ in range(n + 1 if n < 6 else 1):
            hid += 1
            h.handoff(hid, f"done {hid}", SAM, "2026-10-26 09:00", owner=owner, team="accounting",
                      due="2026-10-30")
            h.event(hid, "2026-10-27 09:00", "done", actor=owner, status="done")
    for n in range(6):
        hid += 1
        h.handoff(hid, f"open {hid}", SAM, f"2026-10-2{6 + n % 4} 1{n}:00", owner=DANA, team="accounting",
                  due="2026-12-01")
    store.db.conn.commit()
    week = team_week(store, config, "accounting", *THIS_WEEK)
    assert week.top_helpers == (
        (owners[5], 6), (owners[4], 5), (owners[3], 4), (owners[2], 3), (owners[1], 2))
    assert week.done == 1 + 2 + 3 + 4 + 5 + 6 + 1
    # Oldest first: created 26th 10:00, 26th 14:00, 27th 11:00, 27th 15:00, 28th 12:00.
    assert week.open_now == 6
    assert [o.title for o in week.oldest_open] == [
        f"open {hid - 5}", f"open {hid - 1}", f"open {hid - 4}", f"open {hid}", f"open {hid - 3}"]
    store.close()


def test_naive_or_backwards_weeks_are_refused(store: Store, config) -> None:
    with pytest.raises(ValueError, match="naive"):
        team_week(store, config, "accounting", datetime(2026, 10, 26), datetime(2026, 11, 2))
    with pytest.raises(ValueError, match="start before"):
        team_week(store, config, "accounting", THIS_WEEK[1], THIS_WEEK[0])
