"""Whether the user running nudger may use the database: its folder and its files.

SQLite needs more than the database file: at each open it creates ``-wal`` and ``-shm`` beside
it (and removes them at the last close), so the folder must be writable too, and so must
those files when they are there; nudger's run lock lives there as well. A file or folder the
user cannot write came from a chmod, a chown or a command run as another user (root): a
configuration error to fix, said as one (exit 78), not a busy database to retry (75).
"""

from __future__ import annotations

import os
from pathlib import Path

from nudger.errors import ConfigError
from nudger.permissions import denied_file, denied_folder


def companions(path: Path) -> tuple[Path, ...]:
    """The files beside the database that a run opens for writing: SQLite's and the lock."""
    return tuple(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", ".lock"))


def database_denied(path: Path) -> ConfigError | None:
    """Why this process may not open ``path`` for writing, or None when it may (as far as
    permissions go: a full or failing disk shows only when written)."""
    path = Path(path)
    folder = path.parent
    reach = denied_folder(folder, "the database folder")
    if reach is not None:
        return reach
    if path.exists() and not path.is_file():  # SQLite says only "unable to open database file"
        what = "a folder" if path.is_dir() else "not a regular file"
        return ConfigError(f"the database path {path} is {what}",
                           fix=f"set [database] path to a file, such as {path / 'nudger.db'}, "
                               f"or move {path} aside")
    files = (path, *companions(path))
    # Even when they are there now (another connection is open), SQLite removes the -wal and
    # -shm at the last close and creates them at the next open: the folder must be writable.
    made = denied_folder(folder, "the database folder", write=True, why=(
        f"SQLite creates {path.name}-wal and {path.name}-shm there at each open"
        + ("" if os.path.exists(path) else f", and {path.name} itself")))
    if made is not None:
        return made
    for file in files:
        denied = denied_file(file, "the database file" if file == path else "the database's file",
                             write=True, why="a run writes it")
        if denied is not None:
            return denied
    return None

