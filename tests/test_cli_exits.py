"""Exit codes of the admin commands' refusals: a number that does not exist, or a folder the
demo will not write into, is the caller's mistake (exit 2), said in one line with the way on."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest import Workspace, make_forward

from nudger.cli import cli


def test_a_handoff_number_that_does_not_exist_is_a_usage_error(ws: Workspace) -> None:
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    for args in (("show", "#99"), ("show", "99"), ("preview", "done", "--to", "sam@acme.test", "--handoff", "99"),
                 ("outbox", "retry", "99"), ("quarantine", "show", "9")):
        result = ws.cli(*args, expect=2)
        assert "#99" in result.output or "#9" in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_the_demo_refuses_a_folder_that_is_not_a_demo_and_leaves_it_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["demo", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "is not a nudger demo folder; pick another DIRECTORY" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_show_reads_as_people_write_and_outbox_has_a_header(ws: Workspace) -> None:
    """Names, not addresses; a multi-line note on one line of its column; a header on outbox."""
    notice = ws.handed_over(make_forward(note="@dana can you send them our W-9?\nThey need it this week. due friday"))
    ws.answer(notice, "ack", "2026-11-23T11:05")
    ws.answer(notice, "due 12/4", "2026-11-23T11:35", date="Mon, 23 Nov 2026 11:30:00 -0600")
    timeline = ws.cli("show", "1", "--now", "2026-11-23T12:00").output.split("timeline:\n")[1].split("emails:")[0]
    lines = timeline.splitlines()
    assert all(line.startswith("  Mon 23 Nov") for line in lines), timeline  # one line per event
    assert "W-9? / They need it this week. due friday”" in timeline
    assert "Sam Seller" in timeline and "Dana Numbers" in timeline and "@acme.test" not in timeline
    assert "Fri 4 Dec" in timeline and "2026-12-04" not in timeline
    listing = ws.cli("outbox", "--all").output.splitlines()
    assert listing[0].split() == ["id", "state", "kind", "to", "when", "subject"]


def test_a_typo_is_answered_not_counted_as_refused(ws: Workspace) -> None:
    import json

    notice = ws.handed_over()
    ws.answer(notice, "dne", "2026-11-23T10:00")
    assert ws.sent_to("dana@acme.test", "did_you_mean")
    status = json.loads(ws.cli("status", "--json").output)
    assert status["refused"]["count"] == 0 and status["inbound"]["reply"] == 1
    ws.answer(notice, "done", "2026-11-23T10:30", sender="eve@acme.test", message_id="<eve@mail.acme.test>")
    assert json.loads(ws.cli("status", "--json").output)["refused"]["count"] == 1  # not on #1


def test_status_does_not_say_a_run_given_a_later_now_is_in_the_future(tmp_path: Path) -> None:
    """The demo's runs record their own (future) clock: status says so, not 'in 44 h'."""
    assert CliRunner().invoke(cli, ["demo", str(tmp_path / "d")]).exit_code == 0
    out = CliRunner().invoke(cli, ["--config", str(tmp_path / "d" / "nudger.toml"), "status"]).output
    line = [x for x in out.splitlines() if x.startswith("last run:")][0]
    assert "ahead of this machine's clock (a run given --now)" in line or "ago" in line, line
    assert ", in " not in line, line


def test_a_folder_at_the_database_path_is_a_config_error_with_its_fix(ws: Workspace) -> None:
    """SQLite says only 'unable to open database file', which read as a storage fault (75, cron
    retries for ever): it is the config's, and says so."""
    ws.run("2026-11-23T09:05")
    db = next(ws.root.rglob("*.db"))
    for file in (db, *db.parent.glob(db.name + "-*")):
        file.unlink()
    db.mkdir()
    result = ws.cli("run", "--now", "2026-11-23T09:10", expect=78)
    assert f"the database path {db} is a folder" in result.output and "set [database] path to a file" in result.output
    assert "is a folder" in ws.cli("doctor", expect=1).output
