"""The schema's version, readable without sqlite-utils: an up-to-date database (every cron
run but the first after an upgrade) opens without importing it (~0.2 s with its plugin scan).

``LATEST`` is the newest migration's name; a test checks it against ``migrations``.
"""

from __future__ import annotations

import sqlite3

MIGRATION_SET = "nudger"
LATEST = "m007_due_asked"


def is_current(conn: sqlite3.Connection) -> bool:
    try:
        row = conn.execute("select 1 from _sqlite_migrations where migration_set = ? and name = ?",
                           [MIGRATION_SET, LATEST]).fetchone()
    except sqlite3.OperationalError:  # no migrations table yet: a new database
        return False
    return row is not None
