"""The CLI's contract: exit codes, JSON shapes, config lookup, init, demo, inspect."""

from __future__ import annotations

import email
import json
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import Workspace, make_forward, make_reply

from nudger.cli import cli


def invoke(*args: str, env: dict | None = None, input=None):
    return CliRunner().invoke(cli, list(args), env=env or {}, input=input, catch_exceptions=False)


def test_help_for_every_command() -> None:
    out = invoke("--help").output
    for name in ("run", "ingest", "inspect", "items", "show", "status", "init", "demo", "outbox",
                 "quarantine", "doctor"):
        assert name in out
        assert invoke(name, "--help").exit_code == 0


def test_config_error_exits_78_with_key_and_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[org]\ndomain = "acme.test"\n[limts]\nx = 1\n')
    result = invoke("--config", str(bad), "items")
    assert result.exit_code == 78
    assert "bad.toml" in result.stderr and "limts" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_missing_config_is_explained(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("items")
    assert result.exit_code == 78 and "nudger init" in result.stderr


def test_config_before_or_after_command(ws: Workspace) -> None:
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    env = {"NUDGER_SECRET": ws.env["NUDGER_SECRET"]}
    a = CliRunner().invoke(cli, ["--config", str(ws.config), "items", "--json"], env=env)
    b = CliRunner().invoke(cli, ["items", "--json", "--config", str(ws.config)], env=env)
    assert a.exit_code == b.exit_code == 0
    assert json.loads(a.output) == json.loads(b.output)
    assert set(json.loads(a.output)[0]) >= {"id", "title", "status", "owner", "requester", "team", "due",
                                            "rush", "priority", "created"}


def test_inspect_without_config(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.eml").write_bytes(make_forward())
    (tmp_path / "b.eml").write_bytes(b"\x00\xff garbage")
    result = invoke("inspect", "--json", "a.eml", "b.eml", "missing.eml")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["file"] for r in rows] == ["a.eml", "b.eml", "missing.eml"]
    a = rows[0]
    assert a["kind"] == "handoff" and a["from"]["email"] == "sam@acme.test"
    assert a["forwarded"]["from"]["email"] == "bill@initech.example"
    assert a["text"] == "@dana can you send them our W-9? due friday"
    assert a["handoff"]["due"] == "2026-11-27" and a["handoff"]["title"] == "W-9 request"
    assert rows[1]["kind"] == "unknown" and "not an email" in rows[1]["reasons"][0]
    assert rows[2]["kind"] == "unknown" and rows[2]["reasons"]


def test_inspect_reply_commands(ws: Workspace) -> None:
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    result = ws.cli("inspect", "--json", "-", input=make_reply(notice, "ack due 12/4", sender="dana@acme.test"))
    data = json.loads(result.output)
    assert data["kind"] == "reply" and data["authorised"] is True
    assert data["commands"] == [{"name": "ack", "args": "due 12/4", "due": "2026-12-04"}]
    assert data["text"] == "ack due 12/4"


def test_run_is_quiet_when_idle_and_overlap_exits_0(ws: Workspace) -> None:
    assert ws.run("2026-11-23T09:05").output == ""
    import fcntl
    import os

    (ws.root / "state").mkdir(exist_ok=True)
    fd = os.open(ws.root / "state" / "nudger.db.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        ws.deliver(make_forward())
        assert ws.run("2026-11-23T09:10", expect=0).output == ""
        assert ws.items() == []
    finally:
        os.close(fd)
    assert "ingested 1" in ws.run("2026-11-23T09:15").output


def test_ingest_stdin_and_busy_database(ws: Workspace) -> None:
    result = ws.cli("ingest", "-", "--now", "2026-11-23T09:05", input=make_forward())
    assert ws.items()[0]["owner"] == "dana@acme.test"
    assert ws.sent_to("sam@acme.test", "receipt"), result.output
    db = sqlite3.connect(ws.root / "state" / "nudger.db", timeout=0.1)
    db.execute("BEGIN EXCLUSIVE")
    try:
        import nudger.state.store as store_module

        old = store_module.BUSY_TIMEOUT_MS
        store_module.BUSY_TIMEOUT_MS = 100
        try:
            busy = ws.cli("ingest", "-", input=make_forward(note="@lee other"), expect=75)
        finally:
            store_module.BUSY_TIMEOUT_MS = old
        assert "busy" in busy.stderr or "locked" in busy.stderr
    finally:
        db.rollback()
        db.close()


def test_ingest_missing_file_is_one_line(ws: Workspace) -> None:
    result = ws.cli("ingest", "/nonexistent/x.eml", expect=1)
    assert "cannot read /nonexistent/x.eml" in result.stderr and "Traceback" not in result.stderr


def test_status_and_show(ws: Workspace) -> None:
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    status = json.loads(ws.cli("status", "--json").output)
    assert status["handoffs"] == {"open": 1, "acknowledged": 0, "blocked": 0, "done": 0, "cancelled": 0}
    assert status["outbox"] == {"queued": 0, "sending": 0, "sent": 2, "dead": 0, "bounced": 0, "failed": 0}
    assert status["last_run"] is not None
    text = ws.cli("show", "1").output
    assert "W-9 request" in text and "timeline:" in text
    assert ws.cli("show", "99", expect=2).exit_code == 2


def test_init_writes_config_and_maildirs(tmp_path: Path) -> None:
    result = invoke("init", str(tmp_path / "site"), "--domain", "acme.test")
    assert result.exit_code == 0
    config = tmp_path / "site" / "config" / "nudger.toml"
    assert config.exists() and (tmp_path / "site" / "config" / "mail" / "inbox" / "new").is_dir()
    # The commands it prints are checked pasted into a shell below.
    assert (tmp_path / "site" / "config" / "nudger.example.toml").exists()
    doctor = invoke("--config", str(config), "doctor", env={"NUDGER_SECRET": "x" * 32})
    assert doctor.exit_code == 0, doctor.output
    again = invoke("init", str(tmp_path / "site"))
    assert "already exists" in again.output


def next_steps(output: str) -> dict[str, str]:
    """init's "Next:" commands by step: the shell text after the step's label."""
    tail = output[output.index("Next:"):].splitlines()
    found = {"doctor": next(line for line in tail if "Check it:" in line).split("Check it:", 1)[1].strip(),
             "ingest": next(line for line in tail if "pipe it to:" in line).split("pipe it to:", 1)[1].strip()}
    cron = next(line for line in tail if "Add to crontab:" in line).split("Add to crontab:", 1)[1].split()
    found["cron"] = " ".join(cron[5:])  # what cron hands to /bin/sh after the five time fields
    return found


@pytest.mark.parametrize("how", ["script", "module"])
def test_init_next_steps_work_pasted_as_printed_without_nudger_on_path(tmp_path: Path, how: str) -> None:
    """Right after the README's install nudger is in .venv/bin, not on PATH (nor on cron's):
    every command init prints names this nudger by its full path and runs from any folder."""
    from test_demo import NUDGER, clean_env

    site = tmp_path / "my site"  # a space: the commands are quoted for the shell
    start = [str(NUDGER)] if how == "script" else [sys.executable, "-m", "nudger"]
    env = clean_env(tmp_path)
    done = subprocess.run([*start, "init", str(site), "--domain", "acme.test"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    steps = next_steps(done.stdout)
    first = shlex.split(steps["doctor"])[:len(start)]
    assert first == ([str(NUDGER.resolve())] if how == "script" else start), steps
    assert not any(line.lstrip().startswith("nudger ") for line in done.stdout.splitlines())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def sh(line: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["/bin/sh", "-c", line], cwd=elsewhere, env={**env, "NUDGER_SECRET": "s" * 32},
                              input=stdin, capture_output=True, timeout=120)

    doctor = sh(steps["doctor"])
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert b"doctor:" in doctor.stdout
    run = sh(steps["cron"])
    assert run.returncode == 0, run.stderr
    ingest = sh(steps["ingest"], make_forward())
    assert ingest.returncode == 0, ingest.stderr
    assert (site / "config" / "nudger.db").exists()


def test_init_never_writes_a_placeholder_domain(tmp_path: Path) -> None:
    result = invoke("init", str(tmp_path / "site"))
    assert result.exit_code == 2 and "init needs --domain" in result.output
    assert not (tmp_path / "site" / "config" / "nudger.toml").exists()
    bad = invoke("init", str(tmp_path / "site"), "--domain", "sam@acme")
    assert bad.exit_code == 2 and "is not a domain like acme.com" in bad.output
    ok = invoke("init", str(tmp_path / "site"), "--domain", "@ACME.test")
    assert ok.exit_code == 0 and 'domain = "acme.test"' in (tmp_path / "site" / "config" / "nudger.toml").read_text()


@pytest.mark.parametrize("domain", ["yourcompany.com", "Example.ORG", "mail.example.com", "acme.invalid"])
def test_init_refuses_a_placeholder_domain_and_writes_nothing(tmp_path: Path, domain: str) -> None:
    """The check doctor warns with (one function) stops init before it writes anything."""
    site = tmp_path / "site"
    result = invoke("init", str(site), "--domain", domain)
    assert result.exit_code == 2, result.output
    assert f"{domain.lower()!r} is a placeholder, not your domain" in result.output
    assert "nothing was written" in result.output and "--domain acme.com" in result.output
    assert not site.exists()
    config = tmp_path / "nudger.toml"
    config.write_text(f'[org]\ndomain = "{domain.lower()}"\n[database]\npath = "n.db"\n')
    doctor = invoke("--config", str(config), "doctor", env={"NUDGER_SECRET": "s" * 20})
    assert f"warning: [org] domain = {domain.lower()!r} is a placeholder" in doctor.output


def test_demo_runs_and_reruns(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    first = invoke("demo", str(target))
    assert first.exit_code == 0, first.output
    assert "3 handoffs created, 4 replies applied, 1 automatic reply ignored" in first.output
    emails = sorted((target / "mail" / "outbox" / "new").glob("*.eml"))
    second = invoke("demo", str(target))
    assert second.exit_code == 0
    assert len(sorted((target / "mail" / "outbox" / "new").glob("*.eml"))) == len(emails)
    items = json.loads(invoke("--config", str(target / "nudger.toml"), "items", "--json").output)
    assert [i["status"] for i in items] == ["open", "done", "done"]  # Pat (Legal) never answers #1
    assert items[1]["rush"] is True
    kinds = {str(email.message_from_bytes(p.read_bytes())["X-Nudger-Kind"]) for p in emails}
    assert {"ack_reminder", "due_soon", "overdue", "overdue_notice", "escalation", "daily_digest",
            "team_digest", "appreciation"} <= kinds  # the week shows the follow-through
    not_demo = tmp_path / "mine"
    not_demo.mkdir()
    (not_demo / "keep.txt").write_text("x")
    assert invoke("demo", str(not_demo)).exit_code == 2


def test_readme_documents_every_command_and_the_ci_runs_its_test_command() -> None:
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    for name in cli.commands:
        assert f"nudger {name}" in readme, f"README does not mention `nudger {name}`"
    test_command = ".venv/bin/pip install -e '.[test]' && .venv/bin/pytest"
    assert test_command in readme
    assert test_command in (root / ".ci" / "run").read_text()


def test_quiet_and_verbose_work_after_the_command(ws: Workspace) -> None:
    ws.deliver(make_forward())
    assert ws.cli("run", "-q", "--now", "2026-11-23T09:05").output == ""
    ws.deliver(make_forward(note="@lee second"))
    out = ws.cli("run", "-v", "--now", "2026-11-23T09:06")
    assert "ingested 1" in out.output and "handoff created" in out.stderr


def test_unknown_holidays_country_stops_the_run_and_keeps_the_mail(tmp_path: Path) -> None:
    from conftest import ORG_TOML

    ws = Workspace(tmp_path, ORG_TOML.replace('holidays = "US"', 'holidays = "XX"'))
    ws.deliver(make_forward())
    result = ws.run("2026-11-23T09:05", expect=78)
    assert "org.holidays" in result.stderr and "XX" in result.stderr
    assert len(list((ws.inbox / "new").iterdir())) == 1, "the message waits for a fixed config"
    assert ws.cli("quarantine").output.strip() == "quarantine is empty"


def test_ingest_defers_on_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[org]\ndomain = "acme.test"\n[limts]\nx = 1\n')
    result = invoke("--config", str(bad), "ingest", "-", input=make_forward())
    assert result.exit_code == 75 and "limts" in result.stderr
