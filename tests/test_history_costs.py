"""Costs that must not grow with history (issue 16 item 6): processed mail in cur/, sent
mail's bytes, the reply lookup, and the schema check of an idle run."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nudger.inbound.sources import CUR_STAMP, MaildirSource
from nudger.maildir import deliver_to_maildir, ensure_maildir
from nudger.state.schema import NAMES
from nudger.state.store import Store, iso

OLD = 1_700_000_000  # a cur/ mtime well in the past (seconds)


def _processed(box: Path, n: int) -> None:
    for i in range(n):
        (box / "cur" / f"{i:06d}.x:2,S").write_bytes(b"x")
    os.utime(box / "cur", (OLD, OLD))


def test_cur_is_listed_again_only_when_it_changed(tmp_path: Path) -> None:
    box = ensure_maildir(tmp_path / "inbox")
    _processed(box, 50)
    source = MaildirSource(box)
    assert source.pending() == []
    assert (box / CUR_STAMP).read_text() == str(OLD * 10**9)  # nothing unseen: recorded

    # A file put into cur/ behind the folder's back (mtime set back) is not looked for: the
    # listing was skipped, which is the point.
    (box / "cur" / "hidden.x:2,").write_bytes(b"x")
    os.utime(box / "cur", (OLD, OLD))
    assert source.pending() == []

    # Any real change to cur/ (an MUA moving an unseen message there) is seen at once.
    (box / "cur" / "moved.y:2,").write_bytes(b"y")
    keys = [k for k, _ in source.pending()]
    assert keys == ["cur/hidden.x:2,", "cur/moved.y:2,"]


def test_an_unseen_message_in_cur_is_never_forgotten(tmp_path: Path) -> None:
    """A listing that found something unseen records nothing, so a message whose processing
    failed (it stays unseen, cur/ unchanged) is listed again on every run."""
    box = ensure_maildir(tmp_path / "inbox")
    _processed(box, 3)
    (box / "cur" / "unseen.z:2,").write_bytes(b"z")
    os.utime(box / "cur", (OLD, OLD))
    source = MaildirSource(box)
    for _ in range(3):
        assert [k for k, _ in source.pending()] == ["cur/unseen.z:2,"]
    assert not (box / CUR_STAMP).exists()


def test_a_fresh_mtime_is_not_trusted(tmp_path: Path) -> None:
    """Changed within the last two seconds: another change in the same clock tick would keep
    the same mtime, so it is not recorded and cur/ is listed next time too."""
    box = ensure_maildir(tmp_path / "inbox")
    (box / "cur" / "done.x:2,S").write_bytes(b"x")
    assert MaildirSource(box).pending() == []
    assert not (box / CUR_STAMP).exists()


def test_new_mail_is_read_whatever_cur_holds(tmp_path: Path) -> None:
    box = ensure_maildir(tmp_path / "inbox")
    _processed(box, 10)
    source = MaildirSource(box)
    source.pending()
    deliver_to_maildir(box, b"Subject: hi\r\n\r\nhello\r\n", "0001.new")
    assert [k for k, _ in source.pending()] == ["new/0001.new"]


def _row(key: str, sent: datetime | None, status: str) -> dict:
    return {"dedupe_key": key, "kind": "receipt", "handoff_id": None, "recipient": "sam@acme.test",
            "message_id": f"<{key}@acme.test>", "subject": "s", "raw": b"bytes of " + key.encode(),
            "send_after": iso(sent or datetime(2026, 1, 1, tzinfo=UTC)),
            "created": iso(datetime(2026, 1, 1, tzinfo=UTC))}


def test_sent_mail_keeps_its_bytes_for_keep_sent_days_then_only_the_facts(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "n.db")
    now = datetime(2026, 11, 23, 15, tzinfo=UTC)
    with store.transaction():
        for key in ("old", "recent", "dead"):
            store.enqueue(_row(key, None, "queued"))
    ids = {r["subject"] + str(i): r["id"] for i, r in enumerate(store.outbox(("queued",)))}
    old_id, recent_id, dead_id = sorted(ids.values())
    store.mark_sent(old_id, now - timedelta(days=31))
    store.mark_sent(recent_id, now - timedelta(days=29))
    store.mark_dead(dead_id, "550 no such user", now, hard=True)

    assert store.forget_sent_bytes(now - timedelta(days=30)) == 1
    raws = dict(store.db.execute("select dedupe_key, b.raw from outbox o left join outbox_bytes b on b.id = o.id")
                .fetchall())
    assert raws["old"] is None and raws["recent"] == b"bytes of recent" and raws["dead"] == b"bytes of dead"
    assert store.sent_keys(["old", "recent", "dead"]) == {"old", "recent", "dead"}  # the ledger stays

    changes = store.db.conn.total_changes
    assert store.forget_sent_bytes(now - timedelta(days=30)) == 0
    assert store.db.conn.total_changes == changes  # nothing to drop: nothing written
    store.close()


def test_the_check_for_bytes_to_forget_reads_an_index_not_the_sent_mail(tmp_path: Path) -> None:
    """Every run asks whether sent bytes are past keep_sent_days: through the partial index of
    rows that keep bytes, by status and time, never a walk of all the sent (or bounced) mail."""
    store = Store.open(tmp_path / "n.db")
    seen: list[str] = []
    store.db.conn.set_trace_callback(seen.append)
    store.forget_sent_bytes(datetime(2026, 11, 23, tzinfo=UTC))
    store.db.conn.set_trace_callback(None)
    check = next(sql for sql in seen if sql.startswith("select 1"))
    plan = " ".join(r[3] for r in store.db.execute("explain query plan " + check))
    assert "outbox_sent_with_bytes (status=? AND sent<?)" in plan, plan
    store.close()


def test_a_handoffs_emails_are_found_through_an_index(tmp_path: Path) -> None:
    """An escalation's history of chases and ``nudger show`` read one handoff's emails."""
    store = Store.open(tmp_path / "n.db")
    seen: list[str] = []
    store.db.conn.set_trace_callback(seen.append)
    store.outbox_for_handoff(7)
    store.db.conn.set_trace_callback(None)
    plan = " ".join(r[3] for r in store.db.execute("explain query plan " + seen[-1]))
    assert "SCAN" not in plan and "outbox_handoff (handoff_id=?)" in plan, plan
    store.close()


def test_a_reply_finds_its_handoff_through_an_index(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "n.db")
    plan = " ".join(r[3] for r in store.db.execute(
        "explain query plan select id from handoffs where root_message_id in (?)", ["<x>"]))
    assert "SCAN" not in plan and "root_message_id" in plan
    store.close()


def test_an_up_to_date_database_is_known_by_its_header(tmp_path: Path) -> None:
    """``user_version`` counts the applied migrations: an idle run reads no schema table.
    Reset (an old database, or a migration added since), the next open migrates and marks it."""
    path = tmp_path / "n.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("pragma user_version").fetchone()[0] == len(NAMES)
    conn.execute("pragma user_version = 0")
    conn.close()
    Store.open(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("pragma user_version").fetchone()[0] == len(NAMES)
    conn.close()
