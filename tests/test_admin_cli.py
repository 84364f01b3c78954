"""The admin's CLI (issue 15, items 10 and 11): errors said once and where to find more; local
time, not UTC; `items` as a table; refused mail visible; the relay down exits 75.

End to end through the CLI with a real SQLite file and Maildirs (and the real aiosmtpd for the
relay), the clock given by --now.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import ORG_TOML, Workspace, make_forward, make_reply
from smtp_server import SmtpServer, free_port
from test_bounces import bounce, notice_row
from test_smtp import smtp_ws

OUTSIDER = "Eve Outsider <eve@outsider.example>"


def two_handoffs(ws: Workspace) -> None:
    """#1 Dana's W-9 (due Fri 27 Nov, rush), #2 Maria's quote (due Tue 24 Nov); Sam asked both."""
    ws.deliver(make_forward(), arrived="2026-11-23T09:00")
    ws.deliver(make_forward("@maria quote please, due 11/24", subject="Fwd: quote", message_id="<q1@acme.test>"),
               arrived="2026-11-23T09:02")
    ws.run("2026-11-23T09:05")


# --- item 11: items, show, --tz --------------------------------------------------------


def test_items_is_a_table_with_names_and_overdue_marked(ws: Workspace) -> None:
    two_handoffs(ws)
    lines = ws.cli("items", "--now", "2026-11-25T10:00").output.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "DUE", "OWNER", "REQUESTER", "TITLE"]
    w9, quote = lines[1], lines[2]
    assert w9.startswith("#1") and "Dana Numbers" in w9 and "Sam Seller" in w9 and "dana@acme.test" not in w9
    assert "Fri 27 Nov" in w9 and "overdue" not in w9 and w9.endswith("W-9 request [rush]")
    assert quote.startswith("#2") and "Tue 24 Nov, overdue" in quote and "Maria Boss" in quote
    # The columns line up under the header.
    assert {line.index("Dana Numbers") for line in (w9,)} == {lines[0].index("OWNER")}
    rows = json.loads(ws.cli("items", "--json", "--now", "2026-11-25T10:00").output)
    assert [(r["id"], r["overdue"]) for r in rows] == [(1, False), (2, True)]
    assert rows[0]["owner"] == "dana@acme.test"  # JSON keeps addresses


def test_overdue_is_the_owners_day_not_the_servers(ws: Workspace) -> None:
    two_handoffs(ws)
    # 23:30 in Chicago on the 24th is already the 25th in UTC: not overdue yet for Maria.
    assert "overdue" not in ws.cli("items", "--now", "2026-11-24T23:30").output.splitlines()[2]
    assert "overdue" in ws.cli("items", "--now", "2026-11-25T00:30").output.splitlines()[2]


def test_items_status_is_case_insensitive(ws: Workspace) -> None:
    two_handoffs(ws)
    assert [r["id"] for r in json.loads(ws.cli("items", "--status", "OPEN", "--json").output)] == [1, 2]
    assert "no handoffs with status done" in ws.cli("items", "--status", "Done").output
    assert ws.cli("items", "--status", "finished", expect=2).exit_code == 2


def test_show_takes_hash_numbers_and_speaks_the_orgs_time(ws: Workspace) -> None:
    two_handoffs(ws)
    out = ws.cli("show", "#1", "--now", "2026-11-23T09:10").output
    assert out == ws.cli("show", "1", "--now", "2026-11-23T09:10").output
    assert "+00:00" not in out and "T15:00" not in out
    assert "created    Mon 23 Nov 09:00 CST" in out
    assert "  Mon 23 Nov 09:00 CST  created" in out  # the timeline
    assert "owner      Dana Numbers <dana@acme.test>" in out and "due        Fri 27 Nov" in out
    # Sam is in New York: his receipt is shown in the org's time and his own.
    [receipt] = [line for line in out.splitlines() if " receipt " in line]
    assert "Mon 23 Nov 09:05 CST (their 10:05 EST)" in receipt
    [notice] = [line for line in out.splitlines() if " new_handoff " in line]
    assert "Mon 23 Nov 09:05 CST" in notice and "their" not in notice
    assert "next:      ack_reminder to dana@acme.test at Mon 23 Nov 13:05 CST" in out
    assert ws.cli("show", "#x", expect=2).exit_code == 2


def test_tz_shows_another_zone_before_or_after_the_command(ws: Workspace) -> None:
    two_handoffs(ws)
    after = ws.cli("show", "1", "--tz", "Europe/Paris", "--now", "2026-11-23T09:10").output
    before = ws.cli("--tz", "europe/paris", "show", "1", "--now", "2026-11-23T09:10").output
    assert after == before
    assert "created    Mon 23 Nov 16:00 CET" in after
    assert "next:      ack_reminder to dana@acme.test at Mon 23 Nov 20:05 CET (their 13:05 CST)" in after
    upcoming = ws.cli("upcoming", "--tz", "UTC", "--now", "2026-11-23T09:10").output.splitlines()
    assert upcoming[0].split() == ["WHEN", "EMAIL", "ABOUT", "TO"]
    assert "Mon 23 Nov 19:05 UTC  ack_reminder" in upcoming[1]
    assert upcoming[1].endswith("dana@acme.test (their 13:05 CST)")


def test_an_unknown_tz_is_a_usage_error_naming_close_ones(ws: Workspace) -> None:
    two_handoffs(ws)
    result = ws.cli("show", "1", "--tz", "Europe/Pariss", expect=2)
    assert "unknown timezone 'Europe/Pariss'" in result.stderr and "Europe/Paris" in result.stderr
    assert "Traceback" not in result.output
    assert "an IANA name" in ws.cli("--tz", "Mars/Olympus", "items", expect=2).stderr


def test_json_does_not_move_with_tz(ws: Workspace) -> None:
    two_handoffs(ws)
    for command in (("items", "--json"), ("show", "1", "--json"), ("status", "--json"),
                    ("outbox", "--all", "--json"), ("inbound", "--json")):
        plain = json.loads(ws.cli(*command, "--now", "2026-11-23T09:10").output
                           if command[0] in ("items", "show") else ws.cli(*command).output)
        zoned = json.loads(ws.cli(*command, "--tz", "Asia/Tokyo", "--now", "2026-11-23T09:10").output
                           if command[0] in ("items", "show") else ws.cli(*command, "--tz", "Asia/Tokyo").output)
        if command[0] == "status":
            plain.pop("last_run"), zoned.pop("last_run")
        assert plain == zoned, command
    shown = json.loads(ws.cli("show", "1", "--json").output)
    assert shown["created"] == "2026-11-23T15:00:00+00:00"


def test_outbox_and_quarantine_lists_speak_local_time(ws: Workspace) -> None:
    ws.deliver(make_forward())
    ws.deliver(b"\x00\xffnot an email at all", arrived="2026-11-23T09:01")
    ws.run("2026-11-23T09:05")
    listing = ws.cli("outbox", "--all").output
    assert "Mon 23 Nov 09:05 CST" in listing and "+00:00" not in listing
    held = ws.cli("quarantine").output
    assert "Mon 23 Nov 09:05 CST" in held and "+00:00" not in held
    assert "kept Mon 23 Nov 09:05 CST" in ws.cli("quarantine", "show", "#1").output


# --- item 11: refused mail, status --------------------------------------------------


def test_an_outsiders_forward_is_counted_refused_and_listed_with_its_reason(ws: Workspace) -> None:
    two_handoffs(ws)
    ws.deliver(make_forward("@lee please pay this", sender=OUTSIDER, subject="Fwd: invoice",
                            message_id="<eve1@outsider.example>"), arrived="2026-11-23T09:30")
    ws.run("2026-11-23T09:35")
    assert not ws.sent_to("eve@outsider.example"), "no backscatter"
    status = json.loads(ws.cli("status", "--json").output)
    assert status["inbound"]["handoff"] == 2, "a refused forward is not counted as a handoff"
    assert status["inbound"]["refused"] == 1 and sum(status["inbound"].values()) == 3
    assert status["refused"]["count"] == 1
    last = status["refused"]["last"]
    assert last["sender"] == "eve@outsider.example" and last["subject"] == "Fwd: invoice"
    assert "not in allowed_domains" in last["reason"] and last["received"] == "2026-11-23T15:30:00+00:00"
    text = ws.cli("status", "--now", "2026-11-23T11:30").output
    assert "refused:    1 (last: eve@outsider.example, 2 h ago: sender eve@outsider.example is not in " \
           "allowed_domains: no handoff, no reply); `nudger inbound --refused` lists them" in text
    assert "mail read:  3 (2 new handoffs, 1 refused)" in text
    listed = ws.cli("inbound", "--refused").output.splitlines()
    assert listed[0].split() == ["ID", "RECEIVED", "FROM", "KIND", "OUTCOME", "SUBJECT"]
    assert "Mon 23 Nov 09:30 CST" in listed[1] and "eve@outsider.example" in listed[1] and "refused" in listed[1]
    assert "not in allowed_domains: no handoff, no reply" in listed[2]
    assert len(listed) == 3
    everything = json.loads(ws.cli("inbound", "--json").output)
    assert [(m["sender"], m["outcome"], m["handoff"]) for m in everything] == [
        ("eve@outsider.example", "refused", None), ("sam@acme.test", "created", 2), ("sam@acme.test", "created", 1)]
    assert everything[1]["reason"] == "" and everything[1]["reasons"]


def test_a_refused_command_from_one_of_ours_is_listed_too(ws: Workspace) -> None:
    two_handoffs(ws)
    [receipt] = ws.sent_to("sam@acme.test", "receipt")[:1]
    ws.deliver(make_reply(receipt, "done", sender="sam@acme.test"), arrived="2026-11-23T10:00")
    ws.run("2026-11-23T10:05")
    [row] = json.loads(ws.cli("inbound", "--refused", "--json").output)
    assert row["kind"] == "reply" and row["sender"] == "sam@acme.test" and row["handoff"] is not None
    assert ws.sent_to("sam@acme.test", "refusal"), "one of ours is told why"
    (ws.root / "fresh").mkdir()
    assert "no refused mail" in Workspace(ws.root / "fresh").cli("inbound", "--refused").output


def test_status_counts_dead_and_bounced_apart(tmp_path: Path, smtp: SmtpServer) -> None:
    ws = smtp_ws(tmp_path, smtp.port)
    smtp.sink.always("dana@acme.test", "550 5.1.1 <dana@acme.test>: Recipient address rejected: User unknown")
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    receipt = notice_row(ws, "sam@acme.test", "receipt")
    ws.deliver(bounce("postfix", receipt["id"], "sam@acme.test", receipt["message_id"]))
    ws.run("2026-11-23T09:10")
    outbox = json.loads(ws.cli("status", "--json").output)["outbox"]
    assert (outbox["dead"], outbox["bounced"], outbox["failed"]) == (1, 1, 2)
    assert "dead 1, bounced 1" in ws.cli("status").output


# --- preview --team --------------------------------------------------------------------


def test_preview_team_digest_for_a_named_team(ws: Workspace) -> None:
    two_handoffs(ws)
    sales = ws.cli("preview", "team_digest", "--to", "maria@acme.test", "--team", "sales",
                   "--now", "2026-11-30T08:00").output
    assert "Team Sales" in sales
    finance = ws.cli("preview", "team_digest", "--to", "maria@acme.test", "--team", "Finance",
                     "--now", "2026-11-30T08:00").output
    assert "Team Accounting" in finance  # an alias names its team
    unknown = ws.cli("preview", "team_digest", "--to", "maria@acme.test", "--team", "legal", expect=2)
    assert "unknown team 'legal'" in unknown.stderr and "accounting, sales, support" in unknown.stderr
    wrong = ws.cli("preview", "overdue", "--to", "dana@acme.test", "--handoff", "#1", "--team", "sales", expect=2)
    assert "--team is for team_digest" in wrong.stderr


def test_previews_note_tells_the_schedules_time_in_the_orgs_zone(ws: Workspace) -> None:
    two_handoffs(ws)
    out = ws.cli("preview", "overdue", "--to", "dana@acme.test", "--handoff", "1",
                 "--now", "2026-11-30T20:00:00+00:00").output  # a UTC --now: the note is still Chicago's
    assert "(as the schedule owed it on Mon 30 Nov 08:00 CST)" in out
    paris = ws.cli("preview", "overdue", "--to", "dana@acme.test", "--handoff", "1", "--tz", "Europe/Paris",
                   "--now", "2026-11-30T20:00:00+00:00").output
    assert "(as the schedule owed it on Mon 30 Nov 15:00 CET)" in paris
    missing = ws.cli("preview", "overdue", "--to", "dana@acme.test", "--handoff", "9",
                     "--now", "2026-11-30T20:00:00+00:00", expect=2)
    assert "no handoff #9 as of Mon 30 Nov 14:00 CST" in missing.stderr, missing.stderr


# --- item 10: errors -------------------------------------------------------------------


def break_a_row(ws: Workspace) -> None:
    """A hand-edited database: a due date nudger cannot read (our own code meets it: exit 1)."""
    db = sqlite3.connect(ws.root / "state" / "nudger.db")
    db.execute("update handoffs set due = 'soon' where id = 2")
    db.commit()
    db.close()


def test_an_unexpected_error_without_a_log_says_how_to_see_the_traceback(ws: Workspace) -> None:
    two_handoffs(ws)
    break_a_row(ws)
    result = ws.cli("items", expect=1)
    assert result.stderr.strip() == ("nudger: unexpected error: ValueError: Invalid isoformat string: 'soon' "
                                     "(run again with -v for the traceback)")
    assert "details in the log" not in result.stderr
    verbose = ws.cli("items", "-v", expect=1)
    assert "Traceback (most recent call last)" in verbose.stderr and "fromisoformat" in verbose.stderr
    assert verbose.stderr.strip().endswith("nudger: unexpected error: ValueError: Invalid isoformat string: 'soon'")


def test_an_unexpected_error_with_a_log_names_it(tmp_path: Path) -> None:
    ws = Workspace(tmp_path, ORG_TOML + '\n[logging]\npath = "log/nudger.log"\n')
    two_handoffs(ws)
    break_a_row(ws)
    result = ws.cli("items", expect=1)
    log = tmp_path / "log" / "nudger.log"
    assert result.stderr.strip().endswith(f"(traceback in {log})")
    assert "Traceback" not in result.stderr
    assert "Traceback (most recent call last)" in log.read_text()


def test_a_failed_fetch_says_its_reason_once(tmp_path: Path) -> None:
    ws = Workspace(tmp_path, ORG_TOML + '\n[logging]\npath = "log/nudger.log"\n')
    ws.cli("ingest", "-", "--now", "2026-11-23T22:00", input=make_forward())
    import shutil

    shutil.rmtree(ws.inbox, ignore_errors=True)
    ws.inbox.parent.mkdir(parents=True, exist_ok=True)
    ws.inbox.write_text("not a folder")
    result = ws.run("2026-11-24T08:00", expect=75)
    [line] = result.stderr.splitlines()
    assert line.startswith("nudger: could not fetch mail: ") and "inbox" in line
    assert result.stdout == "ingested 0 · queued 0 · sent 1 · fetch failed\n"  # Dana's notice, held till 08:00
    assert (tmp_path / "log" / "nudger.log").read_text().count("fetch failed") == 1
    # Nothing but the failure: stdout stays empty under cron.
    again = ws.run("2026-11-24T08:05", expect=75)
    assert again.stdout == "" and again.stderr.count("\n") == 1


@pytest.mark.parametrize("where", ["before", "after", "env"])
def test_a_config_that_cannot_be_read_exits_78_however_it_is_named(tmp_path: Path, where: str) -> None:
    folder = tmp_path / "conf.toml"
    folder.mkdir()
    (tmp_path / "ws").mkdir()
    ws = Workspace(tmp_path / "ws")
    args = {"before": ("--config", str(folder), "items"), "after": ("items", "--config", str(folder)),
            "env": ("items",)}[where]
    if where == "env":
        ws.env["NUDGER_CONFIG"] = str(folder)
    else:
        del ws.env["NUDGER_CONFIG"]
    result = ws.cli(*args, expect=78)
    assert "is a folder, not a config file" in result.stderr and "Usage:" not in result.output


# --- the relay down --------------------------------------------------------------------


def test_a_run_with_the_relay_down_exits_75_with_one_line(tmp_path: Path) -> None:
    ws = smtp_ws(tmp_path, free_port())  # nothing listens there
    ws.deliver(make_forward())
    result = ws.run("2026-11-23T09:05", expect=75)
    [line] = result.stderr.splitlines()
    assert line.startswith("nudger: the mail relay is unreachable: cannot connect to 127.0.0.1:")
    assert line.endswith("2 emails stay queued for the next run (no attempt spent)")
    assert "relay unreachable" in result.stdout and "cannot connect" not in result.stdout
    assert len(ws.items()) == 1, "the rest of the run happened"
    rows = json.loads(ws.cli("outbox", "--json").output)
    assert [(r["state"], r["attempts"]) for r in rows] == [("queued", 0), ("queued", 0)]
    # The next run tries again (no backoff: nothing was counted), still down: only the one
    # line, stdout quiet under cron.
    again = ws.run("2026-11-23T09:06", expect=75)
    assert again.stdout == "" and len(again.stderr.splitlines()) == 1


def test_a_reachable_relay_with_nothing_to_send_exits_0(sws_idle: Workspace) -> None:
    assert sws_idle.run("2026-11-23T09:05").output == ""


@pytest.fixture
def sws_idle(tmp_path: Path, smtp: SmtpServer) -> Workspace:
    return smtp_ws(tmp_path, smtp.port)


def test_the_relay_back_up_sends_what_waited(tmp_path: Path, smtp: SmtpServer) -> None:
    port = free_port()
    ws = smtp_ws(tmp_path, port)
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05", expect=75)
    toml = ws.config.read_text().replace(f"port = {port}", f"port = {smtp.port}")
    ws.config.write_text(toml)
    assert "sent 2" in ws.run("2026-11-23T09:11").output
    assert sorted(a.rcpt for a in smtp.sink.accepted) == ["dana@acme.test", "sam@acme.test"]
