"""The database (with its -wal and -shm files) and the log hold reply tokens: they are
created 0600 under a normal umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
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
        files = {p.name: mode(p) for p in state.iterdir() if not p.is_dir()}
        assert "nudger.db" in files
        assert set(files.values()) == {0o600}, files  # nudger.db, and -wal/-shm while open
        compiled = state / ".nudger.db.templates"  # the compiled templates: code, nobody else's
        assert mode(compiled) == 0o700 and {mode(p) for p in compiled.iterdir()} == {0o600}
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


def test_outgoing_mail_is_written_0600_in_folders_we_create_0700(tmp_path) -> None:
    """Outgoing .eml files hold the customer's email and the recipient's reply token: private
    whatever the umask, and so are the Maildir folders nudger creates for them."""
    old = os.umask(0o022)
    try:
        ws = Workspace(tmp_path)
        ws.inbox.mkdir(parents=True)  # the MTA's own inbox: an existing folder keeps its mode
        os.chmod(ws.inbox, 0o755)
        ws.deliver(make_forward())
        ws.run("2026-11-23T09:05")
        sent = sorted((tmp_path / "mail" / "outbox" / "new").iterdir())
        assert len(sent) >= 2
        assert {mode(p) for p in sent} == {0o600}
        for folder in ("mail/outbox", "mail/outbox/tmp", "mail/outbox/new", "mail/outbox/cur"):
            assert mode(tmp_path / folder) == 0o700, folder
        assert mode(ws.inbox) == 0o755
        assert {mode(ws.inbox / sub) for sub in ("tmp", "new", "cur")} == {0o700}
        assert mode(tmp_path / "state") == 0o700  # the database's folder, created by the run
    finally:
        os.umask(old)


def test_a_leftover_tmp_file_does_not_pass_its_mode_on(tmp_path) -> None:
    """A resend after a crash writes through the same tmp/ name: a file left there 0644 (by
    an older version, say) is made private before the message goes into it."""
    from nudger.maildir import deliver_to_maildir, ensure_maildir

    box = ensure_maildir(tmp_path / "outbox")
    left = box / "tmp" / "nudger-outbox-00000001.eml"
    left.write_bytes(b"half")
    os.chmod(left, 0o644)
    path = deliver_to_maildir(box, b"Subject: x\r\n\r\nbody\r\n", left.name)
    assert mode(path) == 0o600 and path.read_bytes().endswith(b"body\r\n")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root creates files for another user")
def test_what_root_creates_in_a_users_workspace_belongs_to_that_user_whose_cron_run_then_works() -> None:
    """init, doctor and a run as root in a workspace of uid 4242's: every file and folder they
    make (config, Maildirs, database, key file, log, lock, cache, mail) is 4242's, so a run as
    4242 (as cron would) can open them all (they are 0600/0700: owner only)."""
    import tempfile

    from click.testing import CliRunner

    from nudger.cli import cli
    from nudger.maildir import deliver_to_maildir

    uid = 4242
    with tempfile.TemporaryDirectory(dir="/tmp") as home:
        root = Path(home)
        os.chown(root, uid, uid)
        os.chmod(root, 0o755)
        site = root / "site"
        config = site / "config" / "nudger.toml"
        runner = CliRunner()
        assert runner.invoke(cli, ["init", str(site), "--domain", "acme.test"]).exit_code == 0
        with config.open("a") as f:
            f.write('\n[logging]\npath = "log/nudger.log"\n')
        env = {"NUDGER_CONFIG": str(config)}
        assert runner.invoke(cli, ["doctor"], env=env).exit_code == 0
        deliver_to_maildir(site / "config" / "mail" / "inbox", make_forward(), "1700000000.one.host")
        assert runner.invoke(cli, ["run", "--now", "2026-11-23T09:05"], env=env).exit_code == 0
        made = [p for p in site.rglob("*")] + [site]
        assert {"nudger.db", "nudger.key", "nudger.log", "nudger.db.lock", ".nudger.toml.validated",
                "nudger.toml"} <= {p.name for p in made}
        assert len(list((site / "config" / "mail" / "outbox" / "new").iterdir())) >= 1
        assert [str(p) for p in made if p.lstat().st_uid != uid or p.lstat().st_gid != uid] == []


def test_nothing_is_written_through_a_symlink_put_in_a_files_place(tmp_path) -> None:
    """A workspace owner must not turn a root run against other files: the Maildir's temp
    file, a cache file and the run lock are never opened through a symlink in their place
    (it would truncate, fill and give away its target, or create one anywhere)."""
    import logging

    from nudger.lock import run_lock
    from nudger.maildir import deliver_to_maildir, ensure_maildir
    from nudger.private import replace_private

    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")

    box = ensure_maildir(tmp_path / "outbox")
    (box / "tmp" / "m.eml").symlink_to(victim)
    deliver_to_maildir(box, b"Subject: hi\r\n\r\nhello\r\n", "m.eml")
    assert victim.read_bytes() == b"precious"
    assert (box / "new" / "m.eml").read_bytes() == b"Subject: hi\r\n\r\nhello\r\n"

    cache = tmp_path / ".nudger.toml.validated"
    cache.symlink_to(victim)
    assert replace_private(cache, lambda f: f.write(b"cached") and None, logging.getLogger("test"))
    assert victim.read_bytes() == b"precious" and not cache.is_symlink() and cache.read_bytes() == b"cached"

    elsewhere = tmp_path / "made-by-the-lock"
    (tmp_path / "n.db.lock").symlink_to(elsewhere)  # dangling: O_CREAT would make its target
    with pytest.raises(OSError):
        with run_lock(tmp_path / "n.db"):
            pass
    assert not elsewhere.exists()
