"""Bounces close the loop: a delivery report at +bounce.<n> marks outbox row n, records an
event on its handoff, tells the requester when the owner's mail bounced, and is never answered.

The reports in fixtures/bounces are the shapes real servers send (Postfix, Gmail, Exchange
Online: RFC 3464; Exim and older Exchange: plain text), with {N}, {RCPT}, {MID} filled in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Workspace, make_forward, make_plain
from smtp_server import SmtpServer
from test_smtp import smtp_ws

from nudger.mail.dsn import read_report

BOUNCES = Path(__file__).parent / "fixtures" / "bounces"


def bounce(name: str, n: int, rcpt: str, mid: str) -> bytes:
    text = (BOUNCES / f"{name}.eml").read_text()
    return text.replace("{N}", str(n)).replace("{RCPT}", rcpt).replace("{MID}", mid).replace("\n", "\r\n").encode()


@pytest.mark.parametrize(("name", "action", "status", "hard", "words"), [
    ("postfix", "failed", "5.1.1", True, "550 5.1.1 <dana@acme.test>: Recipient address rejected: User unknown"),
    ("gmail", "failed", "5.1.1", True, "The email account that you tried to reach does not exist."),
    ("exchange_online", "failed", "5.1.10", True, "550 5.1.10 RESOLVER.ADR.RecipientNotFound"),
    ("exim", "failed", "5.1.1", True, "550 5.1.1 <dana@acme.test>: Recipient address rejected: User unknown"),
    ("exchange_legacy", "failed", None, True, "The recipient name is not recognized"),
    ("exim_delay", "delayed", "4.3.0", False, "451 4.3.0 Mailbox temporarily unavailable"),
])
def test_each_shape_is_read(name: str, action: str, status: str | None, hard: bool, words: str) -> None:
    report = read_report(bounce(name, 7, "dana@acme.test", "nudger-abc@acme.test"))
    assert (report.action, report.status, report.hard) == (action, status, hard)
    assert report.diagnostic.startswith(words)
    assert "dana@acme.test" in report.recipients
    assert report.names("Dana@acme.test", None)
    if name not in ("exchange_legacy", "exim_delay"):  # these return no copy of the message
        assert report.message_ids == ("nudger-abc@acme.test",)


def notice_row(ws: Workspace, to: str = "dana@acme.test", kind: str = "new_handoff") -> dict:
    rows = json.loads(ws.cli("outbox", "--all", "--json").output)
    return next(r for r in rows if r["recipient"] == to and r["kind"] == kind)


@pytest.mark.parametrize("name", ["postfix", "gmail", "exchange_online", "exim", "exchange_legacy"])
def test_the_owners_notice_bounced_the_requester_hears_how_to_reassign(ws: Workspace, name: str) -> None:
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    row = notice_row(ws)
    ws.deliver(bounce(name, row["id"], "dana@acme.test", row["message_id"]))
    before = len(ws.sent())
    ws.run("2026-11-23T09:10")
    bounced = notice_row(ws)
    assert bounced["status"] == "bounced"
    assert bounced["last_error"] == read_report(bounce(name, 1, "dana@acme.test", "x@y")).diagnostic
    new = ws.sent()[before:]
    assert [(s.kind, s.to) for s in new] == [("undeliverable", "Sam Seller <sam@acme.test>")]  # never the daemon
    text = new[0].text
    assert "Dana Numbers never got this handoff" in text and "reassign @handle" in text
    timeline = json.loads(ws.cli("show", "1", "--json").output)["timeline"]
    [event] = [e for e in timeline if e["kind"] == "undeliverable"]
    assert event["data"] == {"outbox_id": row["id"], "to": "dana@acme.test", "email": "new_handoff",
                             "how": "bounced", "reason": bounced["last_error"]}
    status = json.loads(ws.cli("status", "--json").output)
    assert [b["address"] for b in status["hard_bouncing"]] == ["dana@acme.test"]
    # The same report again (the MTA redelivers, or a second copy): nothing more.
    ws.deliver(bounce(name, row["id"], "dana@acme.test", row["message_id"]).replace(b"Date:", b"X-Again: 1\r\nDate:"))
    ws.run("2026-11-23T09:20")
    assert len(ws.sent()) == before + 1


def test_a_delay_warning_changes_nothing(ws: Workspace) -> None:
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    row = notice_row(ws)
    ws.deliver(bounce("exim_delay", row["id"], "dana@acme.test", row["message_id"]))
    before = len(ws.sent())
    ws.run("2026-11-24T09:10")
    assert notice_row(ws)["status"] == "sent"
    assert [s.kind for s in ws.sent()[before:]] == ["ack_reminder"]  # what the day brings anyway, nothing more
    assert json.loads(ws.cli("status", "--json").output)["hard_bouncing"] == []


def test_a_report_about_something_else_is_not_trusted(ws: Workspace) -> None:
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    row = notice_row(ws)
    ws.deliver(bounce("postfix", row["id"], "someone@elsewhere.example", "other@elsewhere.example"))
    before = len(ws.sent())
    ws.run("2026-11-23T09:10")
    assert notice_row(ws)["status"] == "sent" and len(ws.sent()) == before


def test_a_bounced_receipt_tells_nobody_and_clears_when_they_write_again(ws: Workspace) -> None:
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    row = notice_row(ws, "sam@acme.test", "receipt")
    ws.deliver(bounce("gmail", row["id"], "sam@acme.test", row["message_id"]))
    before = len(ws.sent())
    ws.run("2026-11-23T09:10")
    assert notice_row(ws, "sam@acme.test", "receipt")["status"] == "bounced"
    assert len(ws.sent()) == before  # Sam is who it failed for: not told about it by email
    assert [b["address"] for b in json.loads(ws.cli("status", "--json").output)["hard_bouncing"]] == [
        "sam@acme.test"]
    assert "bouncing:   sam@acme.test" in ws.cli("status").output
    ws.deliver(make_plain("Sam Seller <sam@acme.test>", "status", "status"))
    ws.run("2026-11-23T10:00")
    assert json.loads(ws.cli("status", "--json").output)["hard_bouncing"] == []


def test_smtp_550_then_the_relays_dsn_for_another_comes_back(tmp_path: Path, smtp: SmtpServer) -> None:
    """The end to end of the issue: one recipient refused at RCPT (dead, others delivered), and a
    DSN from further down the line for another that the relay had accepted: both requesters told."""
    ws = smtp_ws(tmp_path, smtp.port)
    smtp.sink.always("lee@acme.test", "550 5.1.1 <lee@acme.test>: Recipient address rejected: User unknown")
    ws.deliver(make_forward())  # to Dana: accepted by the relay
    ws.deliver(make_forward(note="@lee and the bank letter too, due 12/4"))  # to Lee: refused
    ws.run("2026-11-23T09:05")
    assert sorted(a.kind + ":" + a.rcpt for a in smtp.sink.accepted) == [
        "new_handoff:dana@acme.test", "receipt:sam@acme.test", "receipt:sam@acme.test",
        "undeliverable:sam@acme.test"]
    row = notice_row(ws)
    ws.deliver(bounce("postfix", row["id"], "dana@acme.test", row["message_id"]))
    ws.run("2026-11-23T09:10")
    told = [a for a in smtp.sink.to("sam@acme.test") if a.kind == "undeliverable"]
    assert len(told) == 2
    assert {str(t.msg["Subject"]).split("]")[0] for t in told} == {"[#1", "[#2"}
    assert not [r for r in smtp.sink.rcpts if "daemon" in r]
    status = json.loads(ws.cli("status", "--json").output)
    assert [b["address"] for b in status["hard_bouncing"]] == ["dana@acme.test", "lee@acme.test"]


def test_an_owner_whose_notice_bounced_gets_no_ack_reminder(ws: Workspace) -> None:
    """The reminder counts from when the notice reached the owner: this one never did (the
    requester was told to reassign), so no "please confirm" goes to the dead address."""
    ws.deliver(make_forward(), arrived="2026-11-23T09:00")
    ws.run("2026-11-23T09:05")
    row = notice_row(ws)
    ws.deliver(bounce("postfix", row["id"], "dana@acme.test", row["message_id"]), arrived="2026-11-23T09:08")
    ws.run("2026-11-23T09:10")
    ws.run("2026-11-23T14:00")
    ws.run("2026-11-24T12:00")
    rows = json.loads(ws.cli("outbox", "--all", "--json").output)
    assert not [r for r in rows if r["kind"] == "ack_reminder"]
    assert ws.sent_to("sam@acme.test", "undeliverable")
