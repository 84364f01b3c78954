"""The schema's version, readable without sqlite-utils: an up-to-date database (every cron
run but the first after an upgrade) opens without importing it (~0.2 s with its plugin scan).

``NAMES`` lists every migration; a test checks it against ``migrations``. The database is
current only when all of them are applied, so a migration added beside another (two
branches merged) is never skipped because a later one is already there.
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
)


def is_current(conn: sqlite3.Connection) -> bool:
    marks = ",".join("?" * len(NAMES))
    try:
        row = conn.execute(f"select count(*) from _sqlite_migrations where migration_set = ? and name in ({marks})",
                           [MIGRATION_SET, *NAMES]).fetchone()
    except sqlite3.OperationalError:  # no migrations table yet: a new database
        return False
    return bool(row[0] == len(NAMES))
