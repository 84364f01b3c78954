"""A 60-message run of bench/pipeline.py: the seeded inbox becomes what it should (correctness
only; the benchmark's figures are never asserted)."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import pipeline  # noqa: E402


def test_the_seeded_inbox_is_read_as_a_person_would(tmp_path: Path) -> None:
    inbox = pipeline.build(tmp_path, 60)
    assert inbox.forwards and inbox.replies
    again = pipeline.build(tmp_path / "again", 60)  # same seed, same bytes (replies quote our own notices)
    assert [f.read_bytes() for f in again.forwards] == [f.read_bytes() for f in inbox.forwards]
    assert len(again.replies) == len(inbox.replies)

    result = pipeline.one_round(inbox, tmp_path / "ws")

    auto_replies = sum(b"Auto-Submitted: auto-replied" in f.read_bytes() for f in inbox.forwards)
    assert auto_replies >= 2
    assert result["fwd"]["handoffs"] == len(inbox.forwards) - auto_replies  # every forward is a handoff
    assert result["fwd"]["quarantined"] == result["rep"]["quarantined"] == 0
    assert result["rep"]["applied"] == len(inbox.replies)  # every reply acts on its handoff
    assert result["written"] == result["fwd"]["sent"] + result["rep"]["sent"]
    db = sqlite3.connect(tmp_path / "ws" / "state" / "nudger.db")
    statuses = dict(db.execute("select status, count(*) from handoffs group by status").fetchall())
    assert statuses.get("done", 0) and statuses.get("acknowledged", 0) and statuses.get("blocked", 0)
    assert db.execute("select count(*) from outbox where status != 'sent'").fetchone()[0] == 0
    statements = pipeline.count_statements(inbox, tmp_path / "count")  # an untimed run of its own
    assert statements[0] >= len(inbox.forwards) and statements[1] >= len(inbox.replies)
    text = pipeline.table(inbox, [result], result["fwd"]["rss_mb"], statements)
    assert "whole pipeline / parse floor" in text and "SQL statements per forward" in text
