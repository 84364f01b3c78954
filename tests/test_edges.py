"""The edges: sources and transports open and close, deliver as they go, and tell arrival time."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ORG_TOML, Workspace, make_forward

import nudger.outbound.transports as transports_module
from nudger.app import open_runtime, open_source, open_transport
from nudger.config import Config, config_from_dict
from nudger.errors import ConfigError
from nudger.inbound.sources import FileSource, MaildirSource, StdinSource
from nudger.maildir import deliver_to_maildir
from nudger.outbound.transports import MaildirTransport, Outgoing
from nudger.pipeline import RunSummary, deliver_due
from nudger.runtime import Runtime

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
ENV = {"NUDGER_SECRET": "test-secret-0123456789abcdef"}


def small_config(tmp_path: Path, **sections: dict) -> Config:
    data = {"org": {"domain": "acme.test"}, "database": {"path": "nudger.db"}, **sections}
    return config_from_dict(data, base_dir=tmp_path, env={})


# -- arrival time ---------------------------------------------------------------------


def test_maildir_source_tells_arrival_from_the_files_mtime(tmp_path: Path) -> None:
    path = deliver_to_maildir(tmp_path / "inbox", b"Subject: hi\r\n\r\nhello\r\n", "1700000000.a.host")
    delivered = datetime(2026, 11, 23, 9, 0, 7, tzinfo=UTC)
    os.utime(path, (delivered.timestamp(), delivered.timestamp()))
    with MaildirSource(tmp_path / "inbox") as source:
        [raw] = list(source.fetch())
    assert raw.arrived == delivered
    assert raw.arrived.utcoffset() == timedelta(0)


def test_stdin_and_file_sources_leave_arrival_to_the_runs_clock(tmp_path: Path) -> None:
    saved = tmp_path / "saved.eml"
    saved.write_bytes(b"Subject: hi\r\n\r\nhello\r\n")
    with StdinSource(b"Subject: hi\r\n\r\nhello\r\n") as stdin, FileSource(saved) as file:
        assert [m.arrived for m in (*stdin.fetch(), *file.fetch())] == [None, None]


# -- lifecycle --------------------------------------------------------------------------


def test_every_edge_is_a_context_manager_and_closes_twice_safely(tmp_path: Path) -> None:
    saved = tmp_path / "saved.eml"
    saved.write_bytes(b"x")
    edges = [MaildirSource(tmp_path / "in"), StdinSource(b"x"), FileSource(saved),
             MaildirTransport(tmp_path / "out")]
    for edge in edges:
        with edge as opened:
            assert opened is edge
        edge.close()
    config = small_config(tmp_path)
    with open_runtime(config, NOW, ENV) as rt:
        assert isinstance(rt, Runtime)
        rt.store.status_counts()
    with pytest.raises(sqlite3.ProgrammingError):  # closed with the `with`
        rt.store.status_counts()
    rt.close()


def test_opening_the_smtp_transport_connects_to_nothing(tmp_path: Path) -> None:
    """A run that has nothing to send never touches the relay (its host does not even resolve)."""
    from nudger.outbound.smtp import SmtpTransport

    config = small_config(tmp_path, outbound={"transport": "smtp", "host": "smtp.invalid"})
    with open_transport(config, {}) as transport:
        assert isinstance(transport, SmtpTransport)
        assert list(transport.deliver([])) == []


def test_an_unset_imap_password_variable_is_a_config_error(tmp_path: Path) -> None:
    config = small_config(
        tmp_path, inbound={"source": "imap", "host": "imap.acme.test", "username": "h", "password_env": "P"})
    with pytest.raises(ConfigError, match=r"inbound.password_env: \$P is not set") as exc:
        open_source(config, {})
    assert exc.value.exit_code == 78


def test_imapclient_is_loaded_only_when_the_imap_source_connects(tmp_path: Path) -> None:
    """An idle Maildir run, and opening an IMAP source, import no IMAP library (cron pays for nothing)."""
    ws = Workspace(tmp_path)
    script = f"""
import sys
from click.testing import CliRunner
from nudger.cli import cli
result = CliRunner().invoke(cli, ["run", "--now", "2026-11-23T09:05"], env={ws.env!r})
assert result.exit_code == 0, result.output
assert "imapclient" not in sys.modules, "a Maildir run loaded imapclient"
from nudger.app import open_source
from nudger.config import config_from_dict
config = config_from_dict({{"org": {{"domain": "acme.test"}}, "inbound": {{"source": "imap",
    "host": "imap.acme.test", "username": "h", "password_env": "P"}}}})
with open_source(config, {{"P": "secret"}}):
    pass
assert "imapclient" not in sys.modules, "opening (not fetching) loaded imapclient"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.stdout.strip() == "ok", done.stderr


@pytest.fixture
def closed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the edges closed so far, in order."""
    seen: list[str] = []
    for cls in (MaildirSource, StdinSource, MaildirTransport, Runtime):
        original = cls.close

        def close(self, original=original, name=cls.__name__) -> None:  # type: ignore[no-untyped-def]
            seen.append(name)
            original(self)

        monkeypatch.setattr(cls, "close", close)
    return seen


def test_run_closes_source_transport_and_runtime(ws: Workspace, closed: list[str]) -> None:
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    assert sorted(closed) == ["MaildirSource", "MaildirTransport", "Runtime"]


def test_run_closes_them_when_it_fails(ws: Workspace, closed: list[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import nudger.pipeline

    def broken(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(nudger.pipeline, "run_once", broken)
    result = ws.cli("run", "--now", "2026-11-23T09:05", expect=1)
    assert "boom" in result.stderr
    assert sorted(closed) == ["MaildirSource", "MaildirTransport", "Runtime"]


def test_ingest_closes_what_it_opens(ws: Workspace, closed: list[str]) -> None:
    ws.cli("ingest", "-", "--now", "2026-11-23T09:05", input=make_forward())
    assert sorted(closed) == ["MaildirTransport", "Runtime", "StdinSource"]


def test_a_transport_that_cannot_open_stops_the_run_before_it_is_recorded(tmp_path: Path) -> None:
    toml = ORG_TOML.replace('transport = "maildir"', 'transport = "smtp"\nhost = "smtp.acme.test"\n'
                            'username = "nudger"\npassword_env = "NUDGER_TEST_UNSET_PASSWORD"')
    ws = Workspace(tmp_path, toml)
    result = ws.run("2026-11-23T09:05", expect=78)
    assert "outbound.password_env: $NUDGER_TEST_UNSET_PASSWORD is not set" in result.stderr
    assert json.loads(ws.cli("status", "--json").output)["last_run"] is None


# -- results as they come ---------------------------------------------------------------


def test_maildir_transport_hands_over_one_message_per_result(tmp_path: Path) -> None:
    transport = MaildirTransport(tmp_path / "out")
    transport.ready()  # as deliver_due asks first: it makes the Maildir
    results = transport.deliver([Outgoing(n, "b@acme.test", "r@acme.test", b"x") for n in (1, 2)])
    assert not list((tmp_path / "out" / "new").iterdir()), "nothing is written before it is asked"
    assert next(results).outbox_id == 1
    assert [p.name for p in (tmp_path / "out" / "new").iterdir()] == ["nudger-outbox-00000001.eml"]
    assert [r.status for r in results] == ["sent"]


def queue(rt: Runtime, n: int) -> None:
    with rt.store.transaction():
        for i in range(1, n + 1):
            rt.store.enqueue({
                "dedupe_key": f"test:{i}", "kind": "receipt", "recipient": f"p{i}@acme.test",
                "message_id": f"<m{i}@acme.test>", "subject": f"message {i}",
                "raw": f"Subject: message {i}\r\n\r\nbody\r\n".encode(),
                "send_after": "2026-11-23T00:00:00+00:00", "created": "2026-11-23T00:00:00+00:00",
            })


def test_a_delivery_that_fails_mid_batch_leaves_the_earlier_ones_recorded_sent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = small_config(tmp_path)
    assert config.outbound.path is not None
    with open_runtime(config, NOW, ENV) as rt:
        queue(rt, 5)
    written = 0
    real_write = transports_module.deliver_to_maildir

    def third_one_dies(path: Path, data: bytes, name: str) -> Path:
        nonlocal written
        written += 1
        if written == 3:
            raise RuntimeError("the process dies while handing over the 3rd message")
        return real_write(path, data, name)

    monkeypatch.setattr(transports_module, "deliver_to_maildir", third_one_dies)
    with open_runtime(config, NOW, ENV) as rt, MaildirTransport(config.outbound.path) as transport:
        with pytest.raises(RuntimeError, match="3rd"):
            deliver_due(rt, transport, RunSummary())

    db = sqlite3.connect(config.database_path)  # what a fresh process would find
    rows = db.execute("select id, status, sent is not null from outbox order by id").fetchall()
    db.close()
    assert rows == [(1, "sent", 1), (2, "sent", 1), (3, "sending", 0), (4, "sending", 0),
                    (5, "sending", 0)]
    files = sorted(p.name for p in (config.outbound.path / "new").iterdir())
    assert files == ["nudger-outbox-00000001.eml", "nudger-outbox-00000002.eml"]

    # The next run puts the unknown ones back in the queue and sends each exactly once.
    monkeypatch.setattr(transports_module, "deliver_to_maildir", real_write)
    with open_runtime(config, NOW, ENV) as rt, MaildirTransport(config.outbound.path) as transport:
        assert rt.store.recover_sending() == 3
        summary = RunSummary()
        deliver_due(rt, transport, summary)
    assert summary.sent == 3
    assert len(list((config.outbound.path / "new").iterdir())) == 5
