"""The IMAP source against a real Dovecot on loopback (tests/dovecot.py), through the CLI."""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path

import pytest
from conftest import ImapWorkspace, make_forward, make_plain, make_reply
from conftest import nudger_process as nudger

PROCESSED, QUARANTINE = "Processed", "Quarantine"


def test_a_forward_appended_to_the_inbox_becomes_a_handoff_and_the_reply_closes_it(imap_ws: ImapWorkspace):
    imap_ws.deliver(make_forward(), arrived="2026-11-23T09:00")
    out = imap_ws.run("2026-11-23T09:05").output
    assert "ingested 1 (1 new)" in out
    [item] = imap_ws.items()
    assert item["owner"] == "dana@acme.test" and item["status"] == "open"
    # Moved away after its commit, never flagged \Seen by nudger's read (BODY.PEEK).
    assert imap_ws.mailbox.uids("INBOX") == []
    [moved] = imap_ws.mailbox.uids(PROCESSED)
    assert b"\\Seen" not in imap_ws.mailbox.flags(PROCESSED)[moved]
    # The history is dated by INTERNALDATE, not by the run.
    shown = json.loads(imap_ws.cli("show", str(item["id"]), "--json").output)
    assert shown["timeline"][0]["at"] == "2026-11-23T15:00:00+00:00"  # 09:00 in Chicago

    notice = imap_ws.sent_to("dana@acme.test", "new_handoff")[0]
    imap_ws.deliver(make_reply(notice, "done\nsent the W-9", sender="dana@acme.test"), arrived="2026-11-23T10:00")
    imap_ws.run("2026-11-23T10:05")
    assert imap_ws.items()[0]["status"] == "done"
    assert imap_ws.mailbox.uids("INBOX") == [] and len(imap_ws.mailbox.uids(PROCESSED)) == 2
    assert imap_ws.sent_to("sam@acme.test", "done")


def test_two_runs_in_a_row_do_nothing_twice(imap_ws: ImapWorkspace):
    for i in range(3):
        imap_ws.deliver(make_forward(f"@dana item {i}, due friday"), arrived="2026-11-23T09:00")
    imap_ws.run("2026-11-23T09:05")
    sent = len(imap_ws.sent())
    assert len(imap_ws.items()) == 3 and sent == 6
    again = imap_ws.run("2026-11-23T09:06")
    assert again.output == ""  # idle under cron: nothing to say
    assert len(imap_ws.items()) == 3 and len(imap_ws.sent()) == sent
    assert len(imap_ws.mailbox.uids(PROCESSED)) == 3


def test_a_connection_dropped_mid_batch_still_delivers_exits_75_and_the_next_run_resumes(
        tmp_path: Path, dovecot) -> None:
    import dovecot as dovecot_module

    mailbox = dovecot.mailbox()
    proxy = dovecot_module.CuttingProxy(mailbox.host, mailbox.port)
    try:
        ws = ImapWorkspace(tmp_path, mailbox, port=proxy.port, fetch_batch=2)
        ws.deliver(make_forward(), arrived="2026-11-23T09:00")
        ws.run("2026-11-23T09:05")
        assert not ws.sent_to("dana@acme.test", "ack_reminder")
        for i in range(5):
            ws.deliver(make_forward(f"@lee item {i}, due 12/4"), arrived="2026-11-23T13:00")
        proxy.cut_at(2)  # the second batch's FETCH answer is cut short
        result = ws.run("2026-11-23T13:10", expect=75)
        assert proxy.cuts == 1
        reason = [line for line in result.stderr.splitlines() if line.startswith("nudger:")]
        assert len(reason) == 1 and "connection lost" in reason[0], result.stderr
        assert "could not fetch mail: IMAP 127.0.0.1" in reason[0]
        # The first batch was committed and moved; the run went on to schedule and deliver.
        assert len(ws.items()) == 3
        assert ws.sent_to("dana@acme.test", "ack_reminder"), "scheduled anyway"
        assert len(ws.sent_to("lee@acme.test", "new_handoff")) == 2, "delivered anyway"
        assert len(mailbox.uids("INBOX")) == 3

        proxy.cut_at(None)
        ws.run("2026-11-23T13:15")
        items = ws.items()
        assert sorted(i["title"] for i in items).count("W-9 request") == 6
        assert len(items) == 6 and mailbox.uids("INBOX") == []
        assert len(mailbox.uids(PROCESSED)) == 6
        ids = [s.msg["Message-ID"] for s in ws.sent()]
        assert len(ids) == len(set(ids)) == 6 * 2 + 1  # receipt + notice each, and the one reminder
    finally:
        proxy.stop()


def test_without_move_a_message_is_copied_then_only_its_own_uid_expunged(tmp_path: Path, dovecot_without_move):
    mailbox = dovecot_without_move.mailbox()
    with mailbox.connect() as client:
        assert not client.has_capability("MOVE") and client.has_capability("UIDPLUS")
    # Someone's mail client marked a message \Deleted and has not expunged it yet: not ours to remove.
    mailbox.append(make_plain("sam@acme.test", "scratch", "ignore me"))
    with mailbox.connect() as client:
        client.select_folder("INBOX")
        client.add_flags(client.search(["ALL"]), [b"\\Deleted"])
    ws = ImapWorkspace(tmp_path, mailbox)
    ws.deliver(make_forward(), arrived="2026-11-23T09:00")
    ws.run("2026-11-23T09:05")
    [item] = ws.items()
    assert item["owner"] == "dana@acme.test"
    assert len(mailbox.uids(PROCESSED)) == 1
    flags = mailbox.flags("INBOX")
    assert len(flags) == 1 and b"\\Deleted" in next(iter(flags.values())), "the other \\Deleted one stays"

    notice = ws.sent_to("dana@acme.test", "new_handoff")[0]
    ws.deliver(make_reply(notice, "done", sender="dana@acme.test"), arrived="2026-11-23T10:00")
    ws.run("2026-11-23T10:05")
    assert ws.items()[0]["status"] == "done"
    assert len(mailbox.uids(PROCESSED)) == 2 and len(mailbox.flags("INBOX")) == 1


def test_a_quarantined_message_is_moved_to_a_folder_of_its_own(imap_ws: ImapWorkspace):
    imap_ws.deliver(make_forward(message_id="<same@initech.example>"), arrived="2026-11-23T09:00")
    imap_ws.deliver(make_forward("@lee something else entirely", message_id="<same@initech.example>"),
                    arrived="2026-11-23T09:01")
    out = imap_ws.run("2026-11-23T09:05").output
    assert "1 quarantined" in out
    assert imap_ws.mailbox.uids("INBOX") == []
    assert len(imap_ws.mailbox.uids(PROCESSED)) == 1
    [held] = imap_ws.mailbox.messages(QUARANTINE)
    assert b"something else entirely" in held
    listed = imap_ws.cli("quarantine").output
    assert "Message-ID was already used" in listed and "UID=" in listed


def test_uidvalidity_change_neither_reprocesses_nor_loses_mail(tmp_path: Path, dovecot) -> None:
    mailbox = dovecot.mailbox()
    folder = "Handoffs"
    with mailbox.connect() as client:
        client.create_folder(folder)
    ws = ImapWorkspace(tmp_path, mailbox, folder=folder)
    a = make_forward("@dana first, due friday")
    b = make_forward("@lee second, due 12/4")
    c = make_forward("@dana third, due 12/7")
    mailbox.append(a, folder)
    ws.run("2026-11-23T09:05")
    mailbox.append(b, folder)
    # Killed after B's commit, before its move: B is in the database and still in the folder.
    assert nudger(ws, "run", "--now", "2026-11-23T09:10", crash_at="after_commit").returncode == -signal.SIGKILL
    assert len(mailbox.uids(folder)) == 1
    with mailbox.connect() as client:
        old = client.select_folder(folder, readonly=True)[b"UIDVALIDITY"]
        client.unselect_folder()
        # The mailbox is rebuilt (a migration, a restore): new UIDs, A back from a backup, B kept, C new.
        client.delete_folder(folder)
        client.create_folder(folder)
        for raw in (a, b, c):
            client.append(folder, raw)
        assert client.select_folder(folder, readonly=True)[b"UIDVALIDITY"] != old
    out = ws.run("2026-11-23T09:15").output
    assert "ingested 1 (1 new)" in out and "2 already seen" in out
    assert sorted(i["owner"] for i in ws.items()) == ["dana@acme.test", "dana@acme.test", "lee@acme.test"]
    assert len(ws.sent()) == 6  # a receipt and a notice per handoff, none twice
    assert mailbox.uids(folder) == []


@pytest.mark.parametrize("point", ["before_commit", "inside_commit", "after_commit"])
def test_a_run_killed_mid_ingest_then_run_again_loses_nothing_and_doubles_nothing(
        imap_ws: ImapWorkspace, point: str) -> None:
    imap_ws.deliver(make_forward(), arrived="2026-11-23T09:00")
    imap_ws.deliver(make_forward("@lee and the bank letter too, due 12/4"), arrived="2026-11-23T09:01")
    killed = nudger(imap_ws, "run", "--now", "2026-11-23T09:05", crash_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = nudger(imap_ws, "run", "--now", "2026-11-23T09:06")
    assert again.returncode == 0, again.stderr
    assert [i["owner"] for i in imap_ws.items()] == ["dana@acme.test", "lee@acme.test"]
    ids = [s.msg["Message-ID"] for s in imap_ws.sent()]
    assert len(ids) == len(set(ids)) == 4
    assert imap_ws.mailbox.uids("INBOX") == []
    assert len(imap_ws.mailbox.uids(PROCESSED)) == 2  # moved once each, never copied twice


def test_a_refused_login_is_a_config_error_but_the_run_still_delivers(imap_ws: ImapWorkspace):
    imap_ws.cli("ingest", "-", "--now", "2026-11-23T22:00", input=make_forward())
    assert not imap_ws.sent_to("dana@acme.test"), "held for Dana's business hours"
    imap_ws.env["NUDGER_IMAP_PASSWORD"] = "wrong"
    result = imap_ws.run("2026-11-24T08:00", expect=78)
    [line] = result.stderr.strip().splitlines()[-1:]
    assert "refused the login as 'handoffs" in line and "$NUDGER_IMAP_PASSWORD" in line
    assert imap_ws.sent_to("dana@acme.test", "new_handoff"), "delivery happened anyway"


def test_unset_password_variable_and_missing_folder_are_config_errors(tmp_path: Path, dovecot):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ws = ImapWorkspace(tmp_path / "a", dovecot.mailbox())
    del ws.env["NUDGER_IMAP_PASSWORD"]
    result = ws.run("2026-11-23T09:05", expect=78)
    assert "inbound.password_env: $NUDGER_IMAP_PASSWORD is not set" in result.stderr

    ws = ImapWorkspace(tmp_path / "b", dovecot.mailbox(), folder="Handoffs")
    result = ws.run("2026-11-23T09:05", expect=78)
    assert "inbound.folder" in result.stderr and "has no folder 'Handoffs'" in result.stderr


def test_a_server_that_is_down_is_a_temporary_failure(tmp_path: Path, dovecot):
    import dovecot as dovecot_module

    ws = ImapWorkspace(tmp_path, dovecot.mailbox(), port=dovecot_module.free_port())
    result = ws.run("2026-11-23T09:05", expect=75)
    assert "cannot connect" in result.stderr


def test_a_silent_server_times_out_as_a_temporary_failure(tmp_path: Path, dovecot):
    """A peer that accepts and never greets: the read timeout ends the fetch, not the cron job."""
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        port = silent.getsockname()[1]
        ws = ImapWorkspace(tmp_path, dovecot.mailbox(), port=port, timeout=0.5)
        result = ws.run("2026-11-23T09:05", expect=75)
        assert "cannot connect" in result.stderr and "timed out" in result.stderr
    finally:
        silent.close()


def test_doctor_logs_in_checks_the_folders_and_means_the_next_run_works(imap_ws: ImapWorkspace):
    out = imap_ws.cli("doctor").output
    assert f"[ok] IMAP 127.0.0.1:{imap_ws.mailbox.port} (tls none): logged in as {imap_ws.mailbox.user}" in out
    assert "[ok] IMAP folder 'INBOX': 0 message(s) waiting" in out
    assert "[ok] IMAP processed_folder 'Processed' created" in out
    assert "[ok] IMAP quarantine_folder 'Quarantine' created" in out
    assert "[ok] IMAP moves processed mail with MOVE" in out
    assert "FAIL" not in out
    assert "[ok] IMAP processed_folder 'Processed' exists" in imap_ws.cli("doctor").output
    imap_ws.deliver(make_forward(), arrived="2026-11-23T09:00")
    assert "1 message(s) waiting" in imap_ws.cli("doctor").output
    assert imap_ws.mailbox.uids("INBOX"), "doctor reads nothing away"
    imap_ws.run("2026-11-23T09:05")
    assert len(imap_ws.items()) == 1


def test_doctor_names_each_imap_failure_with_its_fix_and_exits_non_zero(tmp_path: Path, dovecot):
    import dovecot as dovecot_module

    for sub in "abcd":
        (tmp_path / sub).mkdir()
    ws = ImapWorkspace(tmp_path / "a", dovecot.mailbox())
    ws.env["NUDGER_IMAP_PASSWORD"] = "wrong"
    out = ws.cli("doctor", expect=1).output
    assert "[FAIL] IMAP" in out and "refused the login" in out and "fix: use the right password" in out

    del ws.env["NUDGER_IMAP_PASSWORD"]
    out = ws.cli("doctor", expect=1).output
    assert "$NUDGER_IMAP_PASSWORD is not set" in out and "fix: export NUDGER_IMAP_PASSWORD=" in out

    ws = ImapWorkspace(tmp_path / "b", dovecot.mailbox(), folder="Handoffs")
    out = ws.cli("doctor", expect=1).output
    assert "[FAIL] IMAP folder 'Handoffs'" in out and "fix: set inbound.folder" in out

    ws = ImapWorkspace(tmp_path / "c", dovecot.mailbox(), port=dovecot_module.free_port())
    out = ws.cli("doctor", expect=1).output
    assert "cannot connect" in out and "fix: check inbound.host, inbound.port and inbound.tls" in out

    ws = ImapWorkspace(tmp_path / "d", dovecot.mailbox(), tls="starttls")
    out = ws.cli("doctor", expect=1).output
    assert "does not offer STARTTLS" in out and "fix: set inbound.tls" in out


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_tls_from_the_start_or_by_starttls_checks_the_certificate(tmp_path: Path, dovecot_tls, tls: str):
    mailbox = dovecot_tls.mailbox()
    port = dovecot_tls.ssl_port if tls == "ssl" else dovecot_tls.port
    ws = ImapWorkspace(tmp_path, mailbox, port=port, tls=tls)
    ws.deliver(make_forward(), arrived="2026-11-23T09:00")
    # The throwaway certificate is nobody's CA: refused, as a configuration error, nothing read.
    result = ws.run("2026-11-23T09:05", expect=78)
    assert "inbound.tls" in result.stderr and "the certificate does not verify" in result.stderr
    assert "$SSL_CERT_FILE" in result.stderr and ws.items() == []
    # Trusted (the admin's private CA), the same run works, and doctor says so.
    ws.env["SSL_CERT_FILE"] = str(dovecot_tls.cert)
    assert "FAIL" not in ws.cli("doctor").output
    ws.run("2026-11-23T09:06")
    assert [i["owner"] for i in ws.items()] == ["dana@acme.test"]
    assert mailbox.uids("INBOX") == []


def test_a_login_the_server_cannot_check_now_is_a_temporary_failure(tmp_path: Path, dovecot):
    """RFC 5530: ``NO [UNAVAILABLE]`` says the server cannot check the login now (its
    password database is down), not that the login is wrong: exit 75 so the run is simply
    tried again, after it still scheduled and delivered."""
    ws = ImapWorkspace(tmp_path, dovecot.unavailable())
    ws.cli("ingest", "-", "--now", "2026-11-23T22:00", input=make_forward())
    result = ws.run("2026-11-24T08:00", expect=75)
    [line] = result.stderr.strip().splitlines()[-1:]
    assert "[UNAVAILABLE]" in line and "try again later" in line and "refused" not in line
    assert ws.sent_to("dana@acme.test", "new_handoff"), "delivery happened anyway"
    out = ws.cli("doctor", expect=1).output
    assert "[FAIL] IMAP" in out and "[UNAVAILABLE]" in out and "use the right password" not in out
