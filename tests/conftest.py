"""Shared fixtures: a real workspace (config, Maildirs, SQLite) driven through the CLI."""

from __future__ import annotations

import email
import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from hypothesis import settings
from smtp_server import smtp, smtp_server, smtp_tls_servers  # noqa: F401 - the aiosmtpd fixtures, shared

from nudger.cli import cli
from nudger.ops import sample_mail

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=200)
settings.load_profile("ci")

ORG_TOML = """\
[org]
domain = "acme.test"
timezone = "America/Chicago"
holidays = "US"
admin = "maria"

[database]
path = "state/nudger.db"

[inbound]
source = "maildir"
path = "mail/inbox"

[outbound]
transport = "maildir"
path = "mail/outbox"

[security]
trusted_authserv_ids = ["mx.acme.test"]

[[people]]
email = "sam@acme.test"
name = "Sam Seller"
handle = "sam"
team = "sales"
manager = "maria"
timezone = "America/New_York"

[[people]]
email = "maria@acme.test"
name = "Maria Boss"
handle = "maria"
team = "sales"

[[people]]
email = "dana@acme.test"
name = "Dana Numbers"
handle = "dana"
team = "accounting"
manager = "maria"

[[people]]
email = "lee@acme.test"
name = "Lee Ledger"
handle = "lee"
team = "accounting"

[teams.sales]
lead = "maria"
members = ["sam", "maria"]

[teams.accounting]
aliases = ["finance", "ar"]
lead = "dana"
members = ["dana", "lee"]
routing = "lead"
min_lead_days = 7
turnaround_days = 3

[teams.support]
members = ["lee", "maria"]
routing = "round_robin"
"""


@dataclass
class Sent:
    """One email nudger wrote to the outbound Maildir."""

    path: Path
    msg: EmailMessage

    @property
    def to(self) -> str:
        return str(self.msg["To"])

    @property
    def kind(self) -> str:
        return str(self.msg["X-Nudger-Kind"])

    @property
    def text(self) -> str:
        part = self.msg.get_body(("plain",))
        return part.get_content() if part else ""

    @property
    def html(self) -> str:
        part = self.msg.get_body(("html",))
        return part.get_content() if part else ""


class Workspace:
    """A nudger install in a temp dir: write mail in, run, read mail out."""

    def __init__(self, root: Path, toml: str = ORG_TOML):
        self.root = root
        self.config = root / "nudger.toml"
        self.config.write_text(toml)
        self.inbox = root / "mail" / "inbox"
        self.outbox = root / "mail" / "outbox"
        self.runner = CliRunner()
        self.env = {"NUDGER_CONFIG": str(self.config), "NUDGER_SECRET": "test-secret-0123456789abcdef"}
        self._n = 0

    def cli(self, *args: str, input: bytes | str | None = None, expect: int | None = 0):
        result = self.runner.invoke(cli, list(args), env=self.env, input=input, catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, (result.exit_code, result.output, result.stderr)
        return result

    def deliver(self, raw: bytes, name: str | None = None, arrived: str | None = None) -> Path:
        """Put a message in the inbox; ``arrived`` (org-local ISO time) sets its delivery time."""
        from nudger.maildir import deliver_to_maildir

        self._n += 1
        path = deliver_to_maildir(self.inbox, raw, name or f"1700000000.test{self._n:04d}.host")
        if arrived:
            import os
            from datetime import datetime
            from zoneinfo import ZoneInfo

            when = datetime.fromisoformat(arrived).replace(tzinfo=ZoneInfo("America/Chicago")).timestamp()
            os.utime(path, (when, when))
        return path

    def run(self, now: str, expect: int = 0):
        return self.cli("run", "--now", now, expect=expect)

    def sent(self) -> list[Sent]:
        folder = self.outbox / "new"
        if not folder.exists():
            return []
        return [
            Sent(p, email.message_from_bytes(p.read_bytes(), policy=default_policy))  # type: ignore[arg-type]
            for p in sorted(folder.iterdir())
        ]

    def sent_to(self, who: str, kind: str | None = None) -> list[Sent]:
        return [s for s in self.sent() if who in s.to and (kind is None or s.kind == kind)]

    def items(self) -> list[dict]:
        import json

        return json.loads(self.cli("items", "--json").output)

    def handed_over(self, raw: bytes | None = None, at: str = "2026-11-23T09:05",
                    owner: str = "dana@acme.test") -> Sent:
        """A forward delivered and run: the owner's new-handoff email (to reply to)."""
        self.deliver(raw or make_forward())
        self.run(at)
        [notice] = self.sent_to(owner, "new_handoff")
        return notice

    def answer(self, notice: Sent, text: str, at: str, sender: str = "dana@acme.test", **reply: str) -> None:
        """A reply to ``notice`` delivered, then a run at ``at`` (org-local)."""
        self.deliver(make_reply(notice, text, sender=sender, **reply))
        self.run(at)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


def make_forward(
    note: str = "@dana can you send them our W-9? due friday",
    *,
    sender: str = "Sam Seller <sam@acme.test>",
    to: str = "handoffs@acme.test",
    subject: str = "Fwd: W-9 request",
    date: str = "Mon, 23 Nov 2026 09:00:00 -0600",
    cc: str | None = None,
    message_id: str | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    """Sam's forward of Initech's W-9 request, unless told otherwise."""
    return sample_mail.forward(
        note, sender=sender, to=to, subject=subject, date=parsedate_to_datetime(date),
        customer="Bill Lumbergh <bill@initech.example>", customer_subject="W-9 request",
        customer_body="Hi Sam,\n\nCould you send us your W-9 so we can set you up as a vendor?\n\nThanks,\nBill",
        customer_date=datetime(2026, 11, 22, 18, 15), cc=cc, message_id=message_id, attachment=attachment,
    )


def make_plain(sender: str, subject: str, body: str, *, to: str = "handoffs@acme.test",
               attachment: tuple[str, bytes] | None = None) -> bytes:
    """A new email to the handoff address that is not a forward."""
    return sample_mail.plain(sender, subject, body, to=to, attachment=attachment)


def make_reply(
    notice: Sent | None,
    text: str,
    *,
    sender: str,
    to: str | None = None,
    date: str = "Mon, 23 Nov 2026 11:00:00 -0600",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A person's reply to one of nudger's emails; with no notice, a bare "Re:" to the handoff address."""
    when = parsedate_to_datetime(date)
    if notice is None:
        return sample_mail.plain(sender, "Re: hello", text, to=to or "handoffs@acme.test", date=when,
                                 message_id=message_id, headers=headers)
    return sample_mail.reply(notice.msg, text, sender=sender, to=to, date=when, message_id=message_id,
                             headers=headers)


def nudger_process(ws: Workspace, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess:
    """A real `nudger` process with the workspace's environment, so a crash point can SIGKILL it."""
    env = {**os.environ, **ws.env}
    env.pop("NUDGER_CRASH_AT", None)
    if crash_at:
        env["NUDGER_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "nudger", *args], env=env, capture_output=True,
                          timeout=60, cwd=ws.root)


def load_bench(name: str) -> ModuleType:
    """``bench/<name>.py`` as a module (bench/ is not a package), for its smoke test."""
    path = Path(__file__).resolve().parent.parent / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"bench_{name}"] = module
    spec.loader.exec_module(module)
    return module


def token_address(sent: Sent) -> str:
    return str(sent.msg["Reply-To"])


def reply_local(sent: Sent) -> str:
    m = re.match(r"handoffs\+(\d+)\.([a-z2-7]{16})@acme\.test", token_address(sent))
    assert m, token_address(sent)
    return m.group(0)


@pytest.fixture(scope="session")
def dovecot():
    """A private Dovecot on 127.0.0.1 for the whole session (tests/dovecot.py); each test takes
    its own mailbox from it. Never skipped: CI installs dovecot-imapd, and its absence fails."""
    import dovecot as dovecot_module

    server = dovecot_module.start()
    yield server
    dovecot_module.stop(server)


@pytest.fixture(scope="session")
def dovecot_without_move():
    """A second private Dovecot that does not offer MOVE (the COPY + EXPUNGE fallback)."""
    import dovecot as dovecot_module

    server = dovecot_module.start(without=("MOVE",))
    yield server
    dovecot_module.stop(server)


@pytest.fixture(scope="session")
def dovecot_tls():
    """A third private Dovecot with a throwaway certificate: STARTTLS on ``port``, TLS on ``ssl_port``."""
    import dovecot as dovecot_module

    server = dovecot_module.start(tls=True)
    yield server
    dovecot_module.stop(server)


def imap_toml(mailbox, base: str = ORG_TOML, **extra: object) -> str:
    """``base`` (ORG_TOML, or a variant of it) reading its mail from ``mailbox`` (a
    tests/dovecot.py Mailbox) over IMAP."""
    maildir = '[inbound]\nsource = "maildir"\npath = "mail/inbox"\n'
    assert maildir in base
    return base.replace(maildir, mailbox.toml(**extra))


class ImapWorkspace(Workspace):
    """A Workspace whose inbound mail is an IMAP mailbox on the session's Dovecot."""

    def __init__(self, root: Path, mailbox, base: str = ORG_TOML, **extra: object):
        super().__init__(root, imap_toml(mailbox, base, **extra))
        self.mailbox = mailbox
        self.env["NUDGER_IMAP_PASSWORD"] = mailbox.password

    def deliver(self, raw: bytes, name: str | None = None, arrived: str | None = None) -> Path:
        """APPEND to the IMAP inbox; ``arrived`` (org-local ISO time) becomes its INTERNALDATE."""
        from zoneinfo import ZoneInfo

        when = datetime.fromisoformat(arrived).replace(tzinfo=ZoneInfo("America/Chicago")) if arrived else None
        self.mailbox.append(raw, when=when)
        return self.mailbox.root


@pytest.fixture
def imap_ws(tmp_path: Path, dovecot) -> ImapWorkspace:
    return ImapWorkspace(tmp_path, dovecot.mailbox())
