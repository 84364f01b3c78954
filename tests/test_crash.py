"""Kill a real `nudger run` with SIGKILL at each named point, run again: nothing lost, nothing doubled."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from conftest import Workspace, make_forward, make_reply
from conftest import nudger_process as nudger

POINTS = ["before_commit", "inside_commit", "after_commit", "after_claim", "after_send"]


def outbox_files(ws: Workspace) -> list[Path]:
    return sorted((ws.outbox / "new").glob("*.eml")) if (ws.outbox / "new").exists() else []


@pytest.mark.parametrize("point", POINTS)
def test_killed_run_loses_nothing_and_sends_nothing_twice(ws: Workspace, point: str) -> None:
    ws.deliver(make_forward())
    ws.deliver(make_forward(note="@lee and the bank letter too, due 12/4"))
    killed = nudger(ws, "run", "--now", "2026-11-23T09:05", crash_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    again = nudger(ws, "run", "--now", "2026-11-23T09:06")
    assert again.returncode == 0, again.stderr
    items = json.loads(nudger(ws, "items", "--json").stdout)
    assert [i["owner"] for i in items] == ["dana@acme.test", "lee@acme.test"]
    files = outbox_files(ws)
    assert len(files) == 4, [f.name for f in files]  # 2 receipts + 2 owner notices, each once
    ids = [ws.sent()[i].msg["Message-ID"] for i in range(len(files))]
    assert len(set(ids)) == 4
    assert not list((ws.inbox / "new").iterdir())
    assert all(name.name.endswith(":2,S") for name in (ws.inbox / "cur").iterdir())

    # And a reply killed mid-way is applied once.
    notice = ws.sent_to("dana@acme.test", "new_handoff")[0]
    ws.deliver(make_reply(notice, "ack", sender="dana@acme.test"))
    assert nudger(ws, "run", "--now", "2026-11-23T10:00", crash_at=point).returncode == -signal.SIGKILL
    assert nudger(ws, "run", "--now", "2026-11-23T10:01").returncode == 0
    status = json.loads(nudger(ws, "status", "--json").stdout)
    assert status["outbox"] == {"queued": 0, "sending": 0, "sent": 5, "dead": 0, "bounced": 0, "failed": 0}
    assert len(outbox_files(ws)) == 5
    shown = json.loads(nudger(ws, "show", "1", "--json").stdout)
    assert [e["kind"] for e in shown["timeline"]].count("acknowledged") == 1


@pytest.mark.parametrize("point", ["inside_schedule", "after_schedule", "after_claim", "after_send"])
def test_a_run_killed_while_scheduling_sends_each_reminder_once(ws: Workspace, point: str) -> None:
    ws.deliver(make_forward())
    ws.deliver(make_forward(note="@lee and the bank letter too, due 12/4"))
    assert nudger(ws, "run", "--now", "2026-11-23T09:05").returncode == 0
    assert len(outbox_files(ws)) == 4
    # 4 business hours later both owners are owed a reminder; the run dies while queuing them.
    killed = nudger(ws, "run", "--now", "2026-11-23T13:10", crash_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert nudger(ws, "run", "--now", "2026-11-23T13:11").returncode == 0
    reminders = [s.to for s in ws.sent() if s.kind == "ack_reminder"]
    assert sorted(reminders) == ['Dana Numbers <dana@acme.test>', 'Lee Ledger <lee@acme.test>']
    status = json.loads(nudger(ws, "status", "--json").stdout)
    assert status["outbox"] == {"queued": 0, "sending": 0, "sent": 6, "dead": 0, "bounced": 0, "failed": 0}
