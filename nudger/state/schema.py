"""The schema's version, readable without sqlite-utils: an up-to-date database (every cron
run but the first after an upgrade) opens without importing it (~0.2 s with its plugin scan).

``NAMES`` lists every migration; a test checks it against ``migrations``. The database is
current only when all of them are applied (its ``user_version`` is their count), so a
migration added beside another (two branches merged) is never skipped because a later one
is already there.
"""

from __future__ import annotations

import sqlite3

MIGRATION_SET = "nudger"
NAMES = (
    "m001_initial",
    "m002_people_and_runs",
    "m003_inbound_body_hash",
    "m004_events_are_history",
    "m005_quarantine_release_and_people_indexes",
    "m006_schedule",
    "m007_due_asked",
    "m013_history_indexes",
    "m011_hardening",
    "m008_schedule_indexes",
    "m010_outbox_delivery",
    "m014_digest_history",
    "m012_gaps",
    "m015_bytes_apart",
    "m016_outbox_by_handoff",
)


def is_current(conn: sqlite3.Connection) -> bool:
    """One read of the file's header (``PRAGMA user_version``), no schema read: ``mark_current``
    sets it to the number of migrations once they are all applied."""
    return bool(conn.execute("PRAGMA user_version").fetchone()[0] == len(NAMES))


def mark_current(conn: sqlite3.Connection) -> None:
    """After the migrations ran: record that every one of ``NAMES`` is applied."""
    marks = ",".join("?" * len(NAMES))
    row = conn.execute(f"select count(*) from _sqlite_migrations where migration_set = ? and name in ({marks})",
                       [MIGRATION_SET, *NAMES]).fetchone()
    if row[0] == len(NAMES):
        conn.execute(f"PRAGMA user_version = {len(NAMES)}")
