"""The event log is the handoff's history: dated when mail arrived, the state after each event,
the same whatever the cron interval, and readable as of any instant."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import Workspace, make_forward, make_reply

from nudger.state.store import Store

CHICAGO = ZoneInfo("America/Chicago")

# (arrival, who, what): a week of one handoff, each message in the inbox from its arrival on.
STORY = [
    ("2026-11-23T09:02", "forward", "@dana can you send them our W-9? due friday"),
    ("2026-11-23T10:41", "dana", "ack"),
    ("2026-11-23T15:17", "dana", "blocked waiting for the signed form"),
    ("2026-11-24T08:33", "dana", "unblock"),
    ("2026-11-24T11:58", "sam", "due 12/2"),
    ("2026-11-25T16:20", "dana", "done\nsent it by FedEx"),
    ("2026-11-25T16:45", "sam", "thanks, you saved the deal!"),
]


def play(ws: Workspace, step: timedelta) -> list[dict]:
    """Feed the story with cron running every ``step``; return the live state after each run."""
    clock = datetime(2026, 11, 23, 9, 0, tzinfo=CHICAGO)
    end = datetime(2026, 11, 25, 18, 0, tzinfo=CHICAGO)
    pending = list(STORY)
    seen: list[dict] = []
    while clock <= end:
        while pending and datetime.fromisoformat(pending[0][0]).replace(tzinfo=CHICAGO) <= clock:
            arrived, who, text = pending.pop(0)
            if who == "forward":
                raw = make_forward(text, date=_rfc(arrived))
            else:
                role = "new_handoff" if who == "dana" else None
                latest = [s for s in ws.sent() if f"{who}@acme.test" in s.to and (role is None or s.kind == role)]
                raw = make_reply(latest[-1], text, sender=f"{who}@acme.test", date=_rfc(arrived))
            ws.deliver(raw, arrived=arrived)
        ws.run(clock.strftime("%Y-%m-%dT%H:%M"))
        items = ws.items()
        if items:
            seen.append({"at": clock, **items[0]})
        clock += step
    return seen


def _rfc(local: str) -> str:
    from email.utils import format_datetime

    return format_datetime(datetime.fromisoformat(local).replace(tzinfo=CHICAGO))


def timeline(ws: Workspace) -> list[dict]:
    shown = json.loads(ws.cli("show", "1", "--json").output)
    return [{k: v for k, v in e.items() if k != "recorded"} for e in shown["timeline"]]


@pytest.fixture(scope="module")
def every_5_minutes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, list[dict]]:
    ws = Workspace(tmp_path_factory.mktemp("fast"))
    return ws, play(ws, timedelta(minutes=5))


@pytest.fixture(scope="module")
def hourly(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("slow"))
    play(ws, timedelta(hours=1))
    return ws


def test_hourly_and_five_minute_crons_write_the_same_history(every_5_minutes, hourly) -> None:
    fast, slow = every_5_minutes[0], hourly
    history = timeline(fast)
    assert [e["kind"] for e in history] == [
        "created", "owner_assigned", "acknowledged", "blocked", "unblocked", "due_changed", "done", "thanked"]
    assert history == timeline(slow)
    # Each event is dated when its message arrived, not when a run got to it.
    arrivals = [datetime.fromisoformat(a).replace(tzinfo=CHICAGO) for a, _, _ in STORY]
    dated = [datetime.fromisoformat(e["at"]) for e in history]
    assert dated[0] == arrivals[0] and dated[2:] == arrivals[1:]
    # The run's own clock is kept beside it.
    shown = json.loads(slow.cli("show", "1", "--json").output)
    assert shown["timeline"][2]["recorded"] == "2026-11-23T17:00:00+00:00"  # the 11:00 run


def test_every_event_records_the_state_after_it(hourly: Workspace) -> None:
    ws = hourly
    states = [(e["kind"], e["state"]["status"], e["state"]["due"]) for e in timeline(ws)]
    assert states == [
        ("created", "open", "2026-11-27"), ("owner_assigned", "open", "2026-11-27"),
        ("acknowledged", "acknowledged", "2026-11-27"), ("blocked", "blocked", "2026-11-27"),
        ("unblocked", "acknowledged", "2026-11-27"), ("due_changed", "acknowledged", "2026-12-02"),
        ("done", "done", "2026-12-02"), ("thanked", "done", "2026-12-02"),
    ]
    words = {e["kind"]: e["words"] for e in timeline(ws)}
    assert words["blocked"] == "waiting for the signed form"
    assert words["done"].startswith("sent it by FedEx")
    assert words["thanked"].startswith("thanks, you saved the deal!")
    unblocked = next(e for e in timeline(ws) if e["kind"] == "unblocked")
    assert unblocked["data"]["to"] == "acknowledged"


def test_state_at_any_instant_matches_what_was_live_then(every_5_minutes) -> None:
    """Replay: the state the store reports for a past instant is the state items showed then."""
    ws, live = every_5_minutes
    store = Store.open(ws.root / "state" / "nudger.db")
    assert len(live) > 500
    for seen in live:
        state = store.state_at(1, seen["at"])
        assert state is not None
        assert (state.status, state.owner, state.due.isoformat() if state.due else None,
                state.priority, state.rush) == (
            seen["status"], seen["owner"], seen["due"], seen["priority"], seen["rush"]), seen["at"]
    assert store.state_at(1, datetime(2026, 11, 23, 9, 1, tzinfo=CHICAGO)) is None  # before it existed


def test_an_event_is_never_dated_after_the_run(ws: Workspace) -> None:
    """A file whose delivery time is in the future (clock skew) is dated at the run's clock."""
    ws.deliver(make_forward(), arrived="2026-11-30T09:00")
    ws.run("2026-11-23T09:05")
    [created, *_] = timeline(ws)
    assert created["at"] == "2026-11-23T15:05:00+00:00"
