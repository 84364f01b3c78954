"""The quarantine as an admin works with it: list (sender, subject, reason, time), show one
(headers, reason, detail), retry through the normal path (read as new, not as already seen),
drop, and export as .eml."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from conftest import ORG_TOML, Workspace, make_forward

TINY = ORG_TOML + "\n[limits]\nmax_message_mb = 0.0005\n"


def held_forward(tmp_path) -> tuple[Workspace, bytes]:
    ws = Workspace(tmp_path, TINY)
    raw = make_forward(attachment=("w9.pdf", b"%PDF" + b"x" * 2000))
    ws.deliver(raw)
    ws.run("2026-11-23T09:05")
    return ws, raw


def test_the_list_shows_sender_subject_reason_and_time(tmp_path) -> None:
    ws, raw = held_forward(tmp_path)
    [row] = json.loads(ws.cli("quarantine", "--json").output)
    assert row["sender"] == "Sam Seller <sam@acme.test>" and row["subject"] == "Fwd: W-9 request"
    assert "max_message_mb" in row["reason"] and row["status"] == "held" and row["size"] == len(raw)
    assert row["at"].startswith("2026-11-23T15:05")
    text = ws.cli("quarantine").output
    assert "Sam Seller <sam@acme.test>: Fwd: W-9 request" in text and "max_message_mb" in text


def test_show_prints_the_headers_and_the_reason(tmp_path) -> None:
    ws, _ = held_forward(tmp_path)
    shown = ws.cli("quarantine", "show", "1").output
    assert "reason: message is" in shown and "max_message_mb" in shown
    assert "From: Sam Seller <sam@acme.test>" in shown and "Subject: Fwd: W-9 request" in shown
    data = json.loads(ws.cli("quarantine", "show", "1", "--json").output)
    assert ["Subject", "Fwd: W-9 request"] in data["headers"] and data["detail"] == ""
    assert "no quarantined message #9" in ws.cli("quarantine", "show", "9", expect=2).output


def test_retry_after_the_fix_reads_it_as_new_and_answers_now(tmp_path) -> None:
    ws, raw = held_forward(tmp_path)
    ws.config.write_text(ORG_TOML)  # the admin raises the limit
    out = ws.cli("quarantine", "retry", "1", "--now", "2026-11-23T09:15").output
    assert out.startswith("#1: created")
    [item] = ws.items()
    assert item["owner"] == "dana@acme.test"
    assert len(ws.sent_to("dana@acme.test", "new_handoff")) == 1  # delivered by the retry itself
    assert "no held message #1" in ws.cli("quarantine", "retry", "1", expect=2).output  # once
    ws.deliver(raw)  # the source delivering it again is now a duplicate of the handled one
    assert "already seen" in ws.run("2026-11-23T09:20").output
    assert len(ws.items()) == 1


def test_drop_deletes_the_bytes_and_keeps_the_record(tmp_path) -> None:
    ws, raw = held_forward(tmp_path)
    assert ws.cli("quarantine", "drop", "1").output.strip() == "#1: dropped"
    [row] = json.loads(ws.cli("quarantine", "--json").output)
    assert row["status"] == "dropped" and row["size"] == 0
    assert "no held message #1" in ws.cli("quarantine", "retry", "1", expect=2).output
    assert "was dropped" in ws.cli("quarantine", "export", "1", str(tmp_path), expect=1).output
    ws.deliver(raw)  # dropped means dropped: a redelivery is not read again
    ws.run("2026-11-23T09:20")
    assert ws.items() == []


def test_export_writes_the_message_exactly_as_it_came_0600(tmp_path) -> None:
    ws, raw = held_forward(tmp_path)
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    path = ws.cli("quarantine", "export", "1", str(out_dir)).output.strip()
    assert path.endswith("quarantine-1.eml")
    assert Path(path).read_bytes() == raw
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "not overwritten" in ws.cli("quarantine", "export", "1", path, expect=1).output
