"""The database (with its -wal and -shm files) and the log hold reply tokens: they are
created 0600 under a normal umask."""

from __future__ import annotations

import os
import stat

from conftest import ORG_TOML, Workspace, make_forward


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_database_wal_shm_and_log_are_created_0600(tmp_path) -> None:
    old = os.umask(0o022)
    try:
        ws = Workspace(tmp_path, ORG_TOML + '\n[logging]\npath = "logs/nudger.log"\n')
        ws.deliver(make_forward())
        ws.run("2026-11-23T09:05")
        state = tmp_path / "state"
        files = {p.name: mode(p) for p in state.iterdir()}
        assert "nudger.db" in files
        assert set(files.values()) == {0o600}, files  # nudger.db, and -wal/-shm while open
        assert mode(tmp_path / "logs" / "nudger.log") == 0o600
        # the -wal and -shm files exist while a connection is open: check them then
        from nudger.state.store import Store

        store = Store.open(state / "nudger.db")
        store.db.execute("insert into settings (key, value) values ('probe', '1')")
        for suffix in ("-wal", "-shm"):
            assert mode(state / f"nudger.db{suffix}") == 0o600
        store.close()
    finally:
        os.umask(old)
