"""Storage faults are ours, not the message's: on a full disk or a read-only database the
message stays at its source (nothing quarantined, nobody told to send it again), delivery
still runs, and the exit status is 75 so cron or the MTA tries again. The faults are
SQLite's own errors (SQLITE_FULL, SQLITE_READONLY), raised through NUDGER_STORAGE_FAULT."""

from __future__ import annotations

import json

import pytest
from conftest import Workspace, make_forward

from nudger.errors import StorageFailure, storage_failure


def with_fault(ws: Workspace, fault: str, *args: str, input: bytes | None = None, expect: int = 75):
    saved = dict(ws.env)
    ws.env["NUDGER_STORAGE_FAULT"] = fault
    try:
        return ws.cli(*args, input=input, expect=expect)
    finally:
        ws.env.clear()
        ws.env.update(saved)


def pending(ws: Workspace) -> list[str]:
    return sorted(p.name for p in (ws.inbox / "new").iterdir())


def test_a_full_disk_leaves_the_forward_at_its_source_and_still_delivers(ws: Workspace) -> None:
    # At night the receipt goes out, the owner's notice waits for her business hours.
    ws.deliver(make_forward(date="Mon, 23 Nov 2026 23:00:00 -0600"), arrived="2026-11-23T23:00")
    ws.run("2026-11-23T23:05")
    assert [s.kind for s in ws.sent()] == ["receipt"]
    # With a 256 KB letter: its rows cannot fit in pages the first run's mail left free, whatever
    # the size of that mail, so the 4 spare pages are what decides.
    ws.deliver(make_forward(note="@lee the bank letter, due 12/4", attachment=("letter.pdf", b"%PDF" * 65536)),
               name="1700000009.second.host")
    result = with_fault(ws, "full", "run", "--now", "2026-11-24T09:05")
    assert "database or disk is full" in result.stderr and "next run retries" in result.stderr
    assert pending(ws) == ["1700000009.second.host"]  # not taken, not quarantined
    assert sorted(s.kind for s in ws.sent()) == ["new_handoff", "receipt"]  # the held notice went out
    assert json.loads(ws.cli("quarantine", "--json").output) == []
    ws.run("2026-11-24T09:10")  # the disk has room again: read normally, told nothing odd
    assert [i["owner"] for i in ws.items()] == ["dana@acme.test", "lee@acme.test"]
    assert sorted(s.kind for s in ws.sent()) == ["new_handoff", "new_handoff", "receipt", "receipt"]
    assert not [s for s in ws.sent() if s.kind == "quarantined"]


def test_a_read_only_database_makes_run_exit_75_and_loses_nothing(ws: Workspace) -> None:
    ws.deliver(make_forward())
    result = with_fault(ws, "readonly", "run", "--now", "2026-11-23T09:05")
    assert "readonly database" in result.stderr
    assert len(pending(ws)) == 1 and ws.sent() == []
    ws.run("2026-11-23T09:06")
    assert [i["owner"] for i in ws.items()] == ["dana@acme.test"]
    assert json.loads(ws.cli("quarantine", "--json").output) == []


def test_ingest_from_the_mta_exits_75_on_a_read_only_database_so_the_mta_retries(ws: Workspace) -> None:
    raw = make_forward()
    result = with_fault(ws, "readonly", "ingest", "-", "--now", "2026-11-23T09:05", input=raw)
    assert "MTA keeps the message" in result.stderr
    assert ws.items() == []
    ws.cli("ingest", "-", "--now", "2026-11-23T09:06", input=raw)  # the MTA's retry
    assert [i["owner"] for i in ws.items()] == ["dana@acme.test"]


@pytest.mark.parametrize("exc, temporary", [
    (__import__("sqlite3").OperationalError("database or disk is full"), True),
    (__import__("sqlite3").OperationalError("attempt to write a readonly database"), True),
    (OSError(28, "No space left on device"), True),
    (OSError(30, "Read-only file system"), True),
    (__import__("sqlite3").IntegrityError("UNIQUE constraint failed"), False),
    (ValueError("a bug"), False),
    (OSError(2, "No such file or directory"), False),
])
def test_which_errors_are_storage_faults(exc: Exception, temporary: bool) -> None:
    fault = storage_failure(exc)
    assert (fault is not None) == temporary
    assert fault is None or (isinstance(fault, StorageFailure) and fault.exit_code == 75)


def test_a_damaged_database_is_not_one_of_them() -> None:
    import sqlite3

    for words in ("file is not a database", "database disk image is malformed"):
        assert storage_failure(sqlite3.DatabaseError(words)) is None


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_database_file_is_a_setup_fault_78_named_logged_and_left_as_it_is(tmp_path, damage) -> None:
    """Not temporary: every run exits 78 (not 75, retried for ever) with the file and the fix,
    the log says it too, doctor says the same, and the file is never touched."""
    from conftest import ORG_TOML

    ws = Workspace(tmp_path, ORG_TOML + '\n[logging]\npath = "nudger.log"\n')
    ws.run("2026-11-23T08:00")
    db = tmp_path / "state" / "nudger.db"
    good = db.read_bytes()
    for companion in db.parent.glob("nudger.db-*"):
        companion.unlink()
    db.write_bytes(b"this is not sqlite, just garbage\n" * 40 if damage == "garbage" else good[:3000])
    bad = db.read_bytes()
    ws.deliver(make_forward())
    detail = "file is not a database" if damage == "garbage" else "database disk image is malformed"
    told = (f"the database {db} is damaged or is not a nudger database ({detail}): no run can use it, "
            f"and nudger leaves it as it is; fix: restore {db} from your backup (then run `nudger doctor`), "
            f"or move it aside to start afresh with an empty database: mv {db} {db}.damaged (and its -wal "
            "and -shm files, if any, with it); nudger never deletes it")
    run = ws.run("2026-11-23T09:05", expect=78)
    assert f"nudger: {told}\n" in run.stderr and "Traceback" not in run.output + run.stderr
    assert f"ERROR nudger.cli: {told}\n" in (tmp_path / "nudger.log").read_text()
    assert ws.cli("items", expect=78).stderr == f"nudger: {told}\n"
    what, fix = told.split("; fix: ")
    doctor = ws.cli("doctor", expect=1)
    assert f"[FAIL] {what}\n       fix: {fix}\n" in doctor.output
    assert "disk refuses writes" not in doctor.output
    assert db.read_bytes() == bad, "nudger never writes over or deletes it"
    assert pending(ws) != [] and not any((ws.inbox / "cur").iterdir()), "the mail waits, not quarantined"
    db.rename(f"{db}.damaged")  # the fix, as told: the next run starts afresh and takes the mail
    ws.run("2026-11-23T09:10")
    assert [i["owner"] for i in ws.items()] == ["dana@acme.test"]
