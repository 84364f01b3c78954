"""What a run commits at which synchronous level (docs/delivery.md, "What is committed when"):
one commit that waits for the disk per message taken from the inbox, none else."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import Workspace, make_forward, make_reply

from nudger.app import open_runtime, open_source, open_transport
from nudger.config import load_config
from nudger.inbound.sources import RawMessage, StdinSource
from nudger.pipeline import RunSummary, ingest_one, run_once
from nudger.state.store import Store


def _commits(ws: Workspace, now: datetime) -> tuple[list[int], int]:
    """The synchronous level of each COMMIT of one run (in order), and what it ingested."""
    config = load_config(ws.config, ws.env)
    with open_runtime(config, now, ws.env) as rt, open_source(config) as source, \
            open_transport(config) as transport:
        level = int(rt.store.db.conn.execute("pragma synchronous").fetchone()[0])
        assert level == 2, "a connection starts at FULL: commands an admin types wait for the disk"
        levels: list[int] = []

        def seen(sql: str) -> None:
            nonlocal level
            if m := re.fullmatch(r"pragma synchronous = (\d)", sql.strip(), re.I):
                level = int(m.group(1))
            elif sql.strip().upper() == "COMMIT":
                levels.append(level)

        rt.store.db.conn.set_trace_callback(seen)
        summary = run_once(rt, source, transport)
        rt.store.record_run(now, now, now, summary.as_json())
        rt.store.db.conn.set_trace_callback(None)
        assert int(rt.store.db.conn.execute("pragma synchronous").fetchone()[0]) == 2, "left as it was"
    return levels, summary.ingested


def test_only_each_ingested_message_waits_for_the_disk(ws: Workspace) -> None:
    chicago = ZoneInfo("America/Chicago")
    ws.deliver(make_forward())
    ws.deliver(make_forward(note="@lee and the bank letter too, due 12/4"))
    levels, ingested = _commits(ws, datetime(2026, 11, 23, 9, 5, tzinfo=chicago))
    assert ingested == 2
    assert levels.count(2) == 2, levels  # the two messages
    assert len(levels) > 4, levels  # attempts, the schedule, the delivery claim and answers, the record

    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "ack", sender="dana@acme.test"))
    levels, ingested = _commits(ws, datetime(2026, 11, 23, 10, 5, tzinfo=chicago))
    assert ingested == 1 and levels.count(2) == 1, levels

    levels, ingested = _commits(ws, datetime(2026, 11, 23, 10, 6, tzinfo=chicago))
    assert ingested == 0 and levels == [1], levels  # idle: only the run's record, not waiting for the disk


def _racing(ws: Workspace, monkeypatch: pytest.MonkeyPatch, raw: bytes) -> RunSummary:
    """A run reads ``raw`` from the inbox while `ingest -` (another connection to the same file)
    records the same bytes first: between the run's look at the inbound log and its commit."""
    config = load_config(ws.config, ws.env)
    now = datetime(2026, 11, 23, 9, 5, tzinfo=ZoneInfo("America/Chicago"))
    real = Store.begin_attempt
    raced: list[str] = []

    def begin_then_lose_the_race(self: Store, key: str, at: datetime) -> int:
        tries = real(self, key, at)
        if not raced:
            raced.append(key)
            with open_runtime(config, now, ws.env) as other:
                assert ingest_one(other, StdinSource(raw), RawMessage("stdin", raw), RunSummary()) != "duplicate"
        return tries

    monkeypatch.setattr(Store, "begin_attempt", begin_then_lose_the_race)
    ws.deliver(raw)
    with open_runtime(config, now, ws.env) as rt, open_source(config) as source, \
            open_transport(config) as transport:
        summary = run_once(rt, source, transport)
    assert raced
    return summary


def test_a_message_another_process_recorded_first_is_a_duplicate_and_writes_nothing(
        ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = _racing(ws, monkeypatch, make_forward())
    assert (summary.duplicates, summary.created, summary.quarantined) == (1, 0, 0)
    assert [i["owner"] for i in json.loads(ws.cli("items", "--json").output)] == ["dana@acme.test"]
    with sqlite3.connect(ws.root / "state" / "nudger.db") as db:
        assert db.execute("select count(*) from inbound").fetchone() == (1,)
        kinds = sorted(r[0] for r in db.execute("select kind from outbox"))
    assert kinds == ["new_handoff", "receipt"]  # once: the run's own copies were rolled back
    assert not list((ws.inbox / "new").iterdir())  # the inbox let it go: it is recorded


def test_a_message_another_process_recorded_first_is_not_quarantined_by_the_loser(
        ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ws.config.write_text(ws.config.read_text() + "\n[limits]\nmax_parts = 1\n")
    summary = _racing(ws, monkeypatch, make_forward(attachment=("order.pdf", b"%PDF-1.4 x" * 10)))
    assert (summary.duplicates, summary.quarantined) == (1, 0)
    held = json.loads(ws.cli("quarantine", "--json").output)
    assert len(held) == 1, held  # the winner's, not a second copy
