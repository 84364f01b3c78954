"""A quarantined message is kept whole, holds back its redeliveries, and can be read again
once its cause is fixed (the store's side; the `quarantine retry` command comes later)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from conftest import ORG_TOML, Workspace, make_forward

from nudger.app import open_runtime
from nudger.config import load_config
from nudger.pipeline import RunSummary, retry_quarantined

TINY = ORG_TOML + "\n[limits]\nmax_message_mb = 0.0005\n"


def test_a_quarantined_message_is_read_again_after_its_cause_is_fixed(tmp_path) -> None:
    ws = Workspace(tmp_path, TINY)
    raw = make_forward(attachment=("w9.pdf", b"%PDF" + b"x" * 2000))
    ws.deliver(raw)
    ws.run("2026-11-23T09:05")
    [held] = json.loads(ws.cli("quarantine", "--json").output)
    assert "max_message_mb" in held["reason"] and ws.items() == []
    [told] = ws.sent_to("sam@acme.test", "quarantined")  # the sender hears why

    ws.deliver(raw)  # a redelivery while held is a duplicate, not a second quarantine
    assert "already seen" in ws.run("2026-11-23T09:10").output
    assert len(json.loads(ws.cli("quarantine", "--json").output)) == 1

    ws.config.write_text(ORG_TOML)  # the admin raises the limit back to the default
    config = load_config(ws.config, ws.env)
    now = datetime(2026, 11, 23, 9, 15, tzinfo=ZoneInfo("America/Chicago"))
    with open_runtime(config, now, ws.env) as rt:
        summary = RunSummary()
        assert retry_quarantined(rt, held["id"], summary) == "created"
        assert retry_quarantined(rt, held["id"], summary) is None  # released once
    [item] = ws.items()
    assert item["owner"] == "dana@acme.test" and item["title"] == "W-9 request"
    ws.run("2026-11-23T09:16")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    assert [p.get_filename() for p in notice.msg.iter_attachments()] == ["w9.pdf", "handoff-1.ics"]
    status = json.loads(ws.cli("quarantine", "--json").output)
    assert [q["status"] for q in status] == ["released"]
    assert told.kind == "quarantined"

    ws.deliver(raw)  # and once handled, a redelivery is a duplicate again
    assert "already seen" in ws.run("2026-11-23T09:20").output
    assert len(ws.items()) == 1
