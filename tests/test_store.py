"""Storage: migrations upgrade an old database; the outbox dedupes; WAL and busy timeout are on."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from sqlite_utils import Database

from nudger.core.handoffs import Outcome
from nudger.core.records import Handoff
from nudger.state.migrations import migrations
from nudger.state.store import Store


def test_database_made_by_first_schema_is_upgraded(tmp_path) -> None:
    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m002_people_and_runs")
    db["handoffs"].insert({"title": "Old one", "status": "open", "requester": "sam@acme.test",
                           "created": "2026-01-01T00:00:00+00:00"})
    assert "people" not in db.table_names()
    db.conn.close()

    store = Store.open(path)
    assert {"people", "team_cursors", "runs"} <= set(store.db.table_names())
    assert [h.title for h in store.handoffs()] == ["Old one"]
    applied = [m.name for m in migrations.applied(Database(store.db.conn))]
    from nudger.state.schema import NAMES, is_current

    assert applied[:7] == ["m001_initial", "m002_people_and_runs", "m003_inbound_body_hash",
                           "m004_events_are_history", "m005_quarantine_release_and_people_indexes",
                           "m006_schedule", "m007_due_asked"]
    assert applied == list(NAMES) and is_current(store.db.conn)
    assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("pragma busy_timeout").fetchone()[0] >= 5000


def test_outbox_dedupe_key_is_unique(tmp_path) -> None:
    store = Store.open(tmp_path / "n.db")
    row = {"dedupe_key": "receipt:1:sam@acme.test:mid:x", "kind": "receipt", "handoff_id": None,
           "recipient": "sam@acme.test", "message_id": "nudger-1@acme.test", "subject": "s",
           "raw": b"raw", "send_after": "2026-11-23T15:00:00+00:00", "created": "2026-11-23T15:00:00+00:00"}
    with store.transaction():
        assert store.enqueue(row) is True
        assert store.enqueue(row) is False
    due = store.outbox_due(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    assert len(due) == 1
    store.mark_sending([due[0]["id"]])
    assert store.recover_sending() == 1
    assert store.outbox_due(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))[0]["attempts"] == 1


def test_transaction_rolls_back_everything(tmp_path) -> None:
    store = Store.open(tmp_path / "n.db")
    try:
        with store.transaction():
            now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
            new = Handoff(id=0, title="t", status="open", requester="a@b.c", created=now, updated=now)
            store.apply(Outcome(None, new), actor="a@b.c", at=now, recorded=now, domain="acme.test")
            assert len(store.handoffs()) == 1
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert store.handoffs() == []


def test_old_event_logs_are_backfilled_with_the_state_after_each_event(tmp_path) -> None:
    """m004 replays an old log: the first due and owner are read back from the first change."""
    import json

    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m004_events_are_history")
    db["handoffs"].insert({"id": 1, "title": "W-9", "status": "open", "requester": "sam@acme.test",
                           "owner": "lee@acme.test", "team": "accounting", "due": "2026-12-04",
                           "priority": "high", "rush": 1, "created": "2026-11-23T15:00:00+00:00"})
    old = [("created", {"reasons": []}), ("owner_assigned", {"to": "dana@acme.test"}),
           ("acknowledged", {"args": "friday"}), ("due_changed", {"from": "2026-11-27", "to": "2026-12-04"}),
           ("blocked", {"reason": "waiting on legal"}), ("unblocked", {"note": ""}),
           ("reassigned", {"by": "dana@acme.test", "from": "dana@acme.test", "to": "lee@acme.test"})]
    for i, (kind, data) in enumerate(old):
        db["events"].insert({"handoff_id": 1, "at": f"2026-11-23T15:0{i}:00+00:00", "kind": kind,
                             "actor": "sam@acme.test", "data": json.dumps(data)})
    db.conn.close()

    store = Store.open(path)
    events = store.events(1)
    assert [(e.kind, e.state.status, e.state.owner, str(e.state.due)) for e in events] == [
        ("created", "open", None, "2026-11-27"),
        ("owner_assigned", "open", "dana@acme.test", "2026-11-27"),
        ("acknowledged", "acknowledged", "dana@acme.test", "2026-11-27"),
        ("due_changed", "acknowledged", "dana@acme.test", "2026-12-04"),
        ("blocked", "blocked", "dana@acme.test", "2026-12-04"),
        ("unblocked", "acknowledged", "dana@acme.test", "2026-12-04"),
        ("reassigned", "open", "lee@acme.test", "2026-12-04"),
    ]
    assert events[2].words == "friday" and events[4].words == "waiting on legal"
    assert events[0].recorded == events[0].at
    assert {(e.state.team, e.state.priority, e.state.rush) for e in events} == {("accounting", "high", True)}


def test_the_schema_version_names_every_migration(tmp_path) -> None:
    """An up-to-date database opens without sqlite-utils; NAMES must list the migrations."""
    from nudger.state.schema import NAMES, is_current

    assert NAMES == tuple(m.name for m in migrations._migrations)  # type: ignore[attr-defined]
    store = Store.open(tmp_path / "n.db")
    assert is_current(store.db.conn)
    store.close()
    code = ("import sys; from nudger.state.store import Store; Store.open(sys.argv[1]);"
            " print('sqlite_utils' in sys.modules)")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "n.db")], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_bytes_kept_in_the_rows_move_to_their_own_tables(tmp_path) -> None:
    """m015: an email's bytes and a forward's own bytes leave their rows (every status update
    rewrote them) and stay readable: the queued email goes out as it was, the retention rule
    still drops sent bytes, the forward's attachments are still there for a later owner."""
    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m015_bytes_apart")
    db["handoffs"].insert({"id": 7, "title": "W-9", "status": "open", "requester": "sam@acme.test",
                           "created": "2026-11-23T15:00:00+00:00", "source_raw": b"the forward with a PDF"})
    db["handoffs"].insert({"id": 8, "title": "No files", "status": "open", "requester": "sam@acme.test",
                           "created": "2026-11-23T15:00:00+00:00"})
    for i, (status, sent, raw) in enumerate([("queued", None, b"queued bytes"),
                                             ("sent", "2026-10-01T00:00:00+00:00", b"old sent bytes"),
                                             ("sent", "2026-10-02T00:00:00+00:00", None)], 1):
        db["outbox"].insert({"id": i, "dedupe_key": f"k{i}", "kind": "receipt", "recipient": "sam@acme.test",
                             "raw": raw, "status": status, "send_after": "2026-11-01T00:00:00+00:00",
                             "sent": sent, "attempts": 0})
    db.conn.close()

    store = Store.open(path)
    assert "raw" not in {c[1] for c in store.db.execute("pragma table_info(outbox)")}
    assert store.handoff_source(7) == b"the forward with a PDF" and store.handoff_source(8) is None
    assert [h.has_source for h in store.handoffs()] == [True, False]
    due = store.outbox_due(datetime(2026, 12, 1, tzinfo=UTC))
    assert [(r["id"], r["raw"]) for r in due] == [(1, b"queued bytes")]
    assert [store.outbox_row(i)["has_raw"] for i in (1, 2, 3)] == [1, 1, 0]
    assert store.forget_sent_bytes(datetime(2026, 11, 1, tzinfo=UTC)) == 1
    assert store.outbox_row(2)["has_raw"] == 0
    assert [r[0] for r in store.db.execute("select id from outbox_bytes")] == [1]
    store.close()
