"""SMTP delivery against a real aiosmtpd on 127.0.0.1: envelopes, retries, dead letters, AUTH,
crashes mid-delivery, and `nudger outbox`."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from conftest import ORG_TOML, Workspace, make_forward
from smtp_server import PASSWORD, USER, SmtpServer, free_port, self_signed
from test_crash import nudger

WATCHED = "@dana can you send them our W-9? due friday, cc @lee"


def smtp_toml(port: int, *, concurrency: int = 4, login: bool = True) -> str:
    auth = f'username = "{USER}"\npassword_env = "NUDGER_SMTP_PASSWORD"\n' if login else ""
    return ORG_TOML.replace(
        '[outbound]\ntransport = "maildir"\npath = "mail/outbox"\n',
        f'[outbound]\ntransport = "smtp"\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
        f"concurrency = {concurrency}\n{auth}")


def smtp_ws(root: Path, port: int, **kw: object) -> Workspace:
    ws = Workspace(root, smtp_toml(port, **kw))  # type: ignore[arg-type]
    ws.env["NUDGER_SMTP_PASSWORD"] = PASSWORD
    return ws


@pytest.fixture
def sws(tmp_path: Path, smtp: SmtpServer) -> Workspace:
    return smtp_ws(tmp_path, smtp.port)


def outbox_rows(ws: Workspace, *extra: str) -> list[dict]:
    return json.loads(ws.cli("outbox", "--json", *extra).output)


def test_each_email_goes_to_the_relay_with_its_own_bounce_envelope(sws: Workspace, smtp: SmtpServer) -> None:
    sws.deliver(make_forward())
    out = sws.run("2026-11-23T09:05").output
    assert "sent 2" in out
    got = smtp.sink.accepted
    assert sorted(a.rcpt for a in got) == ["dana@acme.test", "sam@acme.test"]
    rows = {r["recipient"]: r for r in outbox_rows(sws, "--all")}
    for a in got:
        n = rows[a.rcpt]["id"]
        assert a.mail_from == f"handoffs+bounce.{n}@acme.test"
        assert a.message_id == rows[a.rcpt]["message_id"]
    assert smtp.sink.logins and set(smtp.sink.logins) == {USER}  # AUTH with the password from the env
    assert sws.cli("outbox").output.startswith("outbox is empty: nothing queued, retrying or failed")
    # Two runs in a row send nothing twice.
    sws.run("2026-11-23T09:06")
    sws.run("2026-11-23T09:30")
    assert len(smtp.sink.accepted) == 2


def test_451_then_accepted_is_sent_once_later_with_the_same_message_id(sws: Workspace, smtp: SmtpServer) -> None:
    smtp.sink.answer("dana@acme.test", "451 4.3.0 Mailbox busy, try again later")
    sws.deliver(make_forward())
    assert "retry 1" in sws.run("2026-11-23T09:05").output
    assert [a.rcpt for a in smtp.sink.accepted] == ["sam@acme.test"]
    [row] = outbox_rows(sws)
    assert row["state"] == "retrying" and row["attempts"] == 1
    assert row["last_error"] == "RCPT: 451 4.3.0 Mailbox busy, try again later"
    assert row["send_after"] == "2026-11-23T15:10:00+00:00"  # 5 minutes later, kept and shown
    listing = sws.cli("outbox").output
    assert "retrying" in listing and "next Mon 23 Nov 09:10 CST after 1 attempt" in listing  # the org's time
    assert "last answer: RCPT: 451 4.3.0" in listing

    sws.run("2026-11-23T09:08")  # not yet
    assert smtp.sink.rcpts.count("dana@acme.test") == 1
    sws.run("2026-11-23T09:10")
    sws.run("2026-11-23T09:20")
    assert [a.rcpt for a in smtp.sink.to("dana@acme.test")] == ["dana@acme.test"]
    assert smtp.sink.to("dana@acme.test")[0].message_id == row["message_id"]
    assert outbox_rows(sws) == []


def test_550_for_one_recipient_dead_others_delivered_and_the_requester_told(
        sws: Workspace, smtp: SmtpServer) -> None:
    words = "550 5.1.1 <dana@acme.test>: Recipient address rejected: User unknown"
    smtp.sink.always("dana@acme.test", words)
    sws.deliver(make_forward(WATCHED))
    out = sws.run("2026-11-23T09:05").output
    assert "dead 1" in out
    delivered = sorted(a.kind + ":" + a.rcpt for a in smtp.sink.accepted)
    assert delivered == ["new_handoff:lee@acme.test", "receipt:sam@acme.test", "undeliverable:sam@acme.test"]
    [dead] = outbox_rows(sws)
    assert dead["status"] == "dead" and dead["recipient"] == "dana@acme.test"
    assert dead["last_error"] == f"RCPT: {words}"
    told = next(a for a in smtp.sink.accepted if a.kind == "undeliverable")
    text = told.msg.get_body(("plain",)).get_content()
    assert "Dana Numbers never got this handoff" in text and "reassign @handle" in text
    assert "User unknown" in text
    shown = json.loads(sws.cli("show", "1", "--json").output)
    [event] = [e for e in shown["timeline"] if e["kind"] == "undeliverable"]
    assert event["data"]["to"] == "dana@acme.test" and event["data"]["how"] == "refused"
    status = json.loads(sws.cli("status", "--json").output)
    assert status["outbox"]["failed"] == 1
    assert [b["address"] for b in status["hard_bouncing"]] == ["dana@acme.test"]
    assert "bouncing:   dana@acme.test" in sws.cli("status").output
    # Nothing more for a rerun; the requester is told once per handoff and address.
    sws.run("2026-11-23T09:30")
    assert len(smtp.sink.accepted) == 3


def test_outbox_retry_sends_a_dead_email_again(sws: Workspace, smtp: SmtpServer) -> None:
    smtp.sink.answer("dana@acme.test", "550 5.2.1 Mailbox disabled")
    sws.deliver(make_forward())
    sws.run("2026-11-23T09:05")
    [dead] = outbox_rows(sws)
    assert "dead" in sws.cli("outbox").output and "reason: RCPT: 550 5.2.1 Mailbox disabled" in sws.cli(
        "outbox").output
    assert "nothing to retry" in sws.cli("outbox", "retry", "1", expect=1).output  # the receipt was sent
    assert "no outgoing email #99" in sws.cli("outbox", "retry", "99", expect=2).output
    assert "queued again" in sws.cli("outbox", "retry", str(dead["id"]), "--now", "2026-11-23T10:00").output
    sws.run("2026-11-23T10:01")
    again = smtp.sink.to("dana@acme.test")
    assert len(again) == 1 and again[0].message_id == dead["message_id"]
    status = json.loads(sws.cli("status", "--json").output)
    assert status["hard_bouncing"] == [] and status["outbox"]["failed"] == 0


def test_421_drops_the_connection_and_the_rest_still_goes(sws: Workspace, smtp: SmtpServer) -> None:
    smtp.sink.answer("dana@acme.test", "421 4.3.2 Service shutting down")
    sws.deliver(make_forward())
    sws.deliver(make_forward(note="@lee and the bank letter too, due 12/4"))
    sws.run("2026-11-23T09:05")
    assert sorted(a.rcpt for a in smtp.sink.accepted) == ["lee@acme.test", "sam@acme.test", "sam@acme.test"]
    [row] = outbox_rows(sws)
    assert row["state"] == "retrying" and row["last_error"].startswith("RCPT: 421")
    sws.run("2026-11-23T09:10")
    assert len(smtp.sink.to("dana@acme.test")) == 1


def test_a_row_dies_after_16_temporary_failures(sws: Workspace, smtp: SmtpServer) -> None:
    smtp.sink.always("dana@acme.test", "452 4.2.2 Mailbox full")
    sws.deliver(make_forward())
    sws.run("2026-11-23T09:05")
    def notice() -> dict:
        return next(r for r in outbox_rows(sws) if r["kind"] == "new_handoff")

    for _ in range(40):  # a run at night holds it for business hours without trying
        row = notice()
        if row["status"] == "dead":
            break
        assert row["state"] == "retrying"
        sws.run(row["send_after"])
    assert row["status"] == "dead" and row["attempts"] == 16
    assert smtp.sink.rcpts.count("dana@acme.test") >= 16  # reminders to Dana fail too
    assert row["last_error"].startswith("gave up after 16 temporary failures; the last: RCPT: 452 4.2.2")
    status = json.loads(sws.cli("status", "--json").output)
    assert status["hard_bouncing"] == []  # a full mailbox is not a bad address
    told = [a for a in smtp.sink.to("sam@acme.test") if a.kind == "undeliverable"]
    assert len(told) == 1 and "I kept trying and have stopped" in told[0].msg.get_body(("plain",)).get_content()


def test_an_unreachable_relay_keeps_everything_queued(tmp_path: Path) -> None:
    ws = smtp_ws(tmp_path, free_port())
    ws.deliver(make_forward())
    result = ws.run("2026-11-23T09:05", expect=75)
    assert result.stdout == "ingested 1 (1 new) · queued 2 · sent 0 · relay unreachable\n"
    assert result.stderr.endswith("2 emails stay queued for the next run (no attempt spent)\n")
    rows = outbox_rows(ws)
    assert [(r["state"], r["attempts"]) for r in rows] == [("queued", 0), ("queued", 0)]
    assert all("cannot connect to 127.0.0.1" in r["last_error"] for r in rows)
    assert "last answer: not tried: cannot connect to 127.0.0.1" in ws.cli("outbox").output


def test_a_relay_down_for_days_dead_letters_nothing_and_sends_it_all_when_back(
        tmp_path: Path, smtp: SmtpServer) -> None:
    """The relay out of reach says nothing about a recipient: no attempt is spent, however long
    it lasts (16 counted failures would dead-letter a row about 2.4 days in), and every run
    tries again; when it is back, everything goes, once."""
    port = free_port()
    ws = smtp_ws(tmp_path, port)
    ws.deliver(make_forward())
    runs = [f"2026-11-{day}T{hour:02d}:05" for day in (23, 24, 25, 26) for hour in (9, 11, 13, 15, 17)]
    for when in runs:  # 20 runs over 4 business days, each with mail due
        result = ws.run(when, expect=75)
        assert result.stderr.count("\n") == 1 and "the mail relay is unreachable" in result.stderr
    rows = outbox_rows(ws)
    assert {(r["status"], r["attempts"]) for r in rows} == {("queued", 0)}, rows
    status = json.loads(ws.cli("status", "--json").output)
    assert status["outbox"]["dead"] == 0 and status["hard_bouncing"] == []
    assert not [m for m in smtp.sink.accepted if m.kind == "undeliverable"]
    ws.config.write_text(ws.config.read_text().replace(f"port = {port}", f"port = {smtp.port}"))
    out = ws.run("2026-11-27T09:05").output
    assert "sent " in out and "dead" not in out
    kinds = sorted(a.kind for a in smtp.sink.accepted)
    assert "receipt" in kinds and "new_handoff" in kinds and "undeliverable" not in kinds
    assert len({a.message_id for a in smtp.sink.accepted}) == len(smtp.sink.accepted)  # each once
    assert outbox_rows(ws) == []


def test_a_recipient_answer_still_counts_while_the_relay_down_does_not(
        tmp_path: Path, smtp: SmtpServer) -> None:
    """A 451 for Dana spends an attempt; the relay being down afterwards spends none, and her
    next attempt after it comes back is her second."""
    ws = smtp_ws(tmp_path, smtp.port)
    smtp.sink.answer("dana@acme.test", "451 4.3.0 Mailbox busy")
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    [row] = outbox_rows(ws)
    assert row["attempts"] == 1
    down = free_port()
    ws.config.write_text(ws.config.read_text().replace(f"port = {smtp.port}", f"port = {down}"))
    for when in ("2026-11-23T09:10", "2026-11-23T09:15", "2026-11-23T10:00"):
        ws.run(when, expect=75)
    [row] = outbox_rows(ws)
    assert (row["state"], row["attempts"]) == ("retrying", 1)
    assert row["last_error"].startswith("not tried: cannot connect")
    ws.config.write_text(ws.config.read_text().replace(f"port = {down}", f"port = {smtp.port}"))
    ws.run("2026-11-23T10:05")
    assert [a.rcpt for a in smtp.sink.to("dana@acme.test")] == ["dana@acme.test"]
    sent = outbox_rows(ws, "--all")
    assert next(r for r in sent if r["recipient"] == "dana@acme.test")["attempts"] == 2


def test_wrong_password_keeps_mail_queued_with_the_reason(tmp_path: Path, smtp: SmtpServer) -> None:
    ws = smtp_ws(tmp_path, smtp.port)
    ws.env["NUDGER_SMTP_PASSWORD"] = "wrong"
    ws.deliver(make_forward())
    result = ws.run("2026-11-23T09:05", expect=78)  # a refused login is the config's to fix
    assert "the mail relay refused our login" in result.stderr and "outbound.password_env" in result.stderr
    assert smtp.sink.accepted == []
    rows = outbox_rows(ws)
    assert all("refused AUTH for nudger" in r["last_error"] and r["attempts"] == 0 for r in rows)
    assert len(ws.items()) == 1, "the rest of the run happened"


def test_a_missing_password_variable_is_a_config_error(tmp_path: Path, smtp: SmtpServer) -> None:
    ws = smtp_ws(tmp_path, smtp.port)
    del ws.env["NUDGER_SMTP_PASSWORD"]
    ws.deliver(make_forward())
    result = ws.run("2026-11-23T09:05", expect=78)
    assert "$NUDGER_SMTP_PASSWORD is not set" in result.stderr


@pytest.mark.parametrize("concurrency", [1, 4])
def test_sigkill_during_smtp_delivery_resends_at_most_one_per_connection(
        tmp_path: Path, smtp: SmtpServer, concurrency: int) -> None:
    ws = smtp_ws(tmp_path, smtp.port, concurrency=concurrency)
    ws.deliver(make_forward())
    ws.deliver(make_forward(note="@lee and the bank letter too, due 12/4"))
    killed = nudger(ws, "run", "--now", "2026-11-23T09:05", crash_at="after_send")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    before = len(smtp.sink.accepted)
    assert 1 <= before <= concurrency
    again = nudger(ws, "run", "--now", "2026-11-23T09:06")
    assert again.returncode == 0, again.stderr
    ids = [a.message_id for a in smtp.sink.accepted]
    assert len(set(ids)) == 4  # 2 receipts + 2 owner notices, each with one Message-ID
    # Only what was in flight goes again: one per connection (the relay may still be reading
    # the last bytes a killed connection wrote when `before` is counted, so that is no bound).
    assert len(ids) - 4 <= concurrency
    nudger(ws, "run", "--now", "2026-11-23T09:30")
    assert len(smtp.sink.accepted) == len(ids)
    status = json.loads(nudger(ws, "status", "--json").stdout)
    assert status["outbox"] == {"queued": 0, "sending": 0, "sent": 4, "dead": 0, "bounced": 0, "failed": 0}


def test_doctor_logs_in_to_the_relay_and_sends_nothing(sws: Workspace, smtp: SmtpServer) -> None:
    out = sws.cli("doctor").output
    assert f"[ok] SMTP 127.0.0.1:{smtp.port} (tls none): connected" in out
    assert "[ok] SMTP EHLO accepted" in out and "[ok] SMTP AUTH as nudger accepted" in out
    assert "[ok] no address hard-bounces" in out
    assert smtp.sink.logins == [USER] and smtp.sink.accepted == [] and smtp.sink.rcpts == []


@pytest.mark.parametrize(("change", "failure", "fix"), [
    ({"NUDGER_SMTP_PASSWORD": "wrong"}, "[FAIL] SMTP AUTH as nudger refused",
     "check outbound.username and the password"),
    ({"NUDGER_SMTP_PASSWORD": ""}, "$NUDGER_SMTP_PASSWORD is not set", "export NUDGER_SMTP_PASSWORD=<the password"),
    ({"tls": "starttls"}, "[FAIL] SMTP STARTTLS not offered", 'set outbound.tls = "ssl"'),
    ({"port": "closed"}, "cannot connect: ", "check outbound.host, outbound.port and outbound.tls"),
])
def test_doctor_names_what_is_wrong_with_the_relay_and_how_to_fix_it(
        tmp_path: Path, smtp: SmtpServer, change: dict, failure: str, fix: str) -> None:
    port = free_port() if change.get("port") == "closed" else smtp.port
    ws = smtp_ws(tmp_path, port)
    if "tls" in change:
        ws.config.write_text(ws.config.read_text().replace('tls = "none"', f'tls = "{change["tls"]}"'))
    if "NUDGER_SMTP_PASSWORD" in change:
        ws.env["NUDGER_SMTP_PASSWORD"] = change["NUDGER_SMTP_PASSWORD"]
    out = ws.cli("doctor", expect=1).output
    assert failure in out, out
    assert f"fix: {fix}" in out, out
    assert smtp.sink.accepted == []


def test_doctor_shows_a_hard_bouncing_address(sws: Workspace, smtp: SmtpServer) -> None:
    smtp.sink.always("dana@acme.test", "550 5.1.1 User unknown")
    sws.deliver(make_forward())
    sws.run("2026-11-23T09:05")
    out = sws.cli("doctor", expect=1).output
    # When, in the org's time like every other command (stored as 15:05 UTC), or --tz's.
    assert "[FAIL] dana@acme.test hard-bounces: outgoing #2 on Mon 23 Nov 09:05 CST: RCPT: 550 5.1.1 User unknown" \
        in out, out
    paris = sws.cli("--tz", "Europe/Paris", "doctor", expect=1).output
    assert "outgoing #2 on Mon 23 Nov 16:05 CET: RCPT: 550" in paris and "+00:00" not in paris
    assert "fix: correct dana's email in [[people]] and reassign what they own" in out


def tls_ws(root: Path, server: SmtpServer, *, trusted: bool) -> Workspace:
    """A workspace for a TLS server, by name (the certificate is for localhost); ``trusted``:
    its certificate is named in SSL_CERT_FILE, else only the system's CAs are."""
    server.sink.reset()
    ws = smtp_ws(root, server.port)
    ws.config.write_text(ws.config.read_text().replace('tls = "none"', f'tls = "{server.tls}"')
                         .replace('host = "127.0.0.1"', 'host = "localhost"'))
    if trusted:
        ws.env["SSL_CERT_FILE"] = str(server.cert)
    return ws


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_tls_with_a_certificate_the_run_trusts(tmp_path: Path, smtp_tls_servers: dict[str, SmtpServer],
                                               tls: str) -> None:
    server = smtp_tls_servers[tls]
    ws = tls_ws(tmp_path, server, trusted=True)
    ws.deliver(make_forward())
    assert "sent 2" in ws.run("2026-11-23T09:05").output
    assert len(server.sink.accepted) == 2 and server.sink.logins
    out = ws.cli("doctor").output
    assert f"[ok] SMTP localhost:{server.port} (tls {tls}): connected" in out
    assert ("[ok] SMTP STARTTLS: TLS up, certificate valid" in out) == (tls == "starttls")
    assert "[ok] SMTP AUTH as nudger accepted" in out


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_a_certificate_nobody_vouches_for_is_a_config_error_that_spends_no_attempt(
        tmp_path: Path, smtp_tls_servers: dict[str, SmtpServer], tls: str) -> None:
    """As for IMAP: the run still reads and schedules, keeps the mail queued with its attempts
    untouched, and exits 78 with one line naming the relay and the fix; trusting the CA sends it."""
    server = smtp_tls_servers[tls]
    ws = tls_ws(tmp_path, server, trusted=False)
    ws.deliver(make_forward())
    result = ws.run("2026-11-23T09:05", expect=78)
    [line] = result.stderr.splitlines()
    assert line.startswith(f"nudger: the mail relay cannot be trusted: the certificate of localhost:{server.port} "
                           "does not verify (self-signed certificate); 2 emails stay queued; fix: point "
                           "$SSL_CERT_FILE at the CA that signed the relay's certificate"), line
    assert result.stdout == "ingested 1 (1 new) · queued 2 · sent 0 · relay certificate untrusted\n"
    assert len(ws.items()) == 1, "the rest of the run happened"
    assert server.sink.accepted == []
    rows = outbox_rows(ws)
    assert [(r["status"], r["attempts"]) for r in rows] == [("queued", 0), ("queued", 0)]
    assert all("does not verify (self-signed certificate)" in r["last_error"] for r in rows)
    again = ws.run("2026-11-23T09:06", expect=78)  # tried again at the next run, still nothing spent
    assert again.stdout == "" and len(again.stderr.splitlines()) == 1
    assert {r["attempts"] for r in outbox_rows(ws)} == {0}
    out = ws.cli("doctor", expect=1).output
    said = {"ssl": f"[FAIL] SMTP localhost:{server.port} (tls ssl): the certificate does not verify",
            "starttls": "[FAIL] SMTP STARTTLS failed: the certificate does not verify"}[tls]
    assert f"{said} (self-signed certificate)" in out, out
    assert "fix: point $SSL_CERT_FILE at the CA that signed the relay's certificate" in out
    ws.env["SSL_CERT_FILE"] = str(server.cert)
    assert "sent 2" in ws.run("2026-11-23T09:10").output
    assert len(server.sink.accepted) == 2


def test_a_certificate_for_another_name_says_to_fix_the_host(tmp_path: Path) -> None:
    """A trusted certificate for relay.acme.test, reached as 127.0.0.1: the host is wrong."""
    cert = self_signed(tmp_path, "DNS:relay.acme.test")
    server = SmtpServer("ssl", cert).start()
    try:
        ws = smtp_ws(tmp_path, server.port)
        ws.config.write_text(ws.config.read_text().replace('tls = "none"', 'tls = "ssl"'))
        ws.env["SSL_CERT_FILE"] = str(server.cert)
        ws.deliver(make_forward())
        result = ws.run("2026-11-23T09:05", expect=78)
        [line] = result.stderr.splitlines()
        assert f"the certificate of 127.0.0.1:{server.port} does not verify (IP address mismatch" in line
        assert line.endswith("fix: set outbound.host to a name the relay's certificate is for (it is not for "
                             "127.0.0.1), or fix the relay's certificate"), line
        assert {(r["status"], r["attempts"]) for r in outbox_rows(ws)} == {("queued", 0)}
        assert "fix: set outbound.host to a name the relay's certificate is for" in ws.cli("doctor", expect=1).output
        assert server.sink.accepted == []
    finally:
        server.stop()
