"""What a run commits at which synchronous level (docs/delivery.md, "What is committed when"):
one commit that waits for the disk per message taken from the inbox, none else."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from conftest import Workspace, make_forward, make_reply

from nudger.app import open_runtime, open_source, open_transport
from nudger.config import load_config
from nudger.pipeline import run_once


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
