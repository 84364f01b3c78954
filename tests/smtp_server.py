"""A real aiosmtpd on 127.0.0.1 for tests and the benchmark: records what it accepts and
answers 421/451/550 (or anything) on demand, per recipient.

Started once per session on a port picked free first (aiosmtpd's Controller checks that it is
ready by connecting to the port it was given, so 0 will not do); ``reset()`` between tests.
"""

from __future__ import annotations

import email
import ssl
import subprocess
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from loopback import free_port

USER, PASSWORD = "nudger", "relay-password-1"


@dataclass(frozen=True)
class Accepted:
    """One message as the server took it: the envelope and the bytes."""

    mail_from: str
    rcpt: str
    data: bytes

    @property
    def msg(self) -> Message:
        return email.message_from_bytes(self.data, policy=default_policy)

    @property
    def message_id(self) -> str:
        """Without angle brackets, as the outbox keeps it."""
        return str(self.msg["Message-ID"]).strip().strip("<>")

    @property
    def kind(self) -> str:
        return str(self.msg["X-Nudger-Kind"])


class Sink:
    """The handler: ``answer(rcpt, "451 ...")`` queues answers for that recipient's next RCPTs;
    ``always(rcpt, "550 ...")`` answers so every time; anything else is accepted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: list[Accepted] = []
        self.scripted: dict[str, deque[str]] = defaultdict(deque)
        self.fixed: dict[str, str] = {}
        self.rcpts: list[str] = []  # every RCPT TO seen, refused or not
        self.logins: list[str] = []
        self.require_auth = False

    def reset(self) -> None:
        with self.lock:
            self.accepted.clear()
            self.scripted.clear()
            self.fixed.clear()
            self.rcpts.clear()
            self.logins.clear()
            self.require_auth = False

    def answer(self, rcpt: str, *answers: str) -> None:
        with self.lock:
            self.scripted[rcpt.lower()].extend(answers)

    def always(self, rcpt: str, answer: str) -> None:
        with self.lock:
            self.fixed[rcpt.lower()] = answer

    def to(self, rcpt: str) -> list[Accepted]:
        return [a for a in self.accepted if a.rcpt.lower() == rcpt.lower()]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: ANN001, N802
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802
        key = address.lower()
        with self.lock:
            self.rcpts.append(key)
            scripted = self.scripted[key].popleft() if self.scripted.get(key) else None
            answer = scripted or self.fixed.get(key)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.accepted.append(Accepted(envelope.mail_from, rcpt, bytes(envelope.content)))
        return "250 2.0.0 Message accepted for delivery"


def _authenticate(sink: Sink):  # noqa: ANN202
    def check(server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER and (
            auth_data.password.decode() == PASSWORD)
        if ok:
            sink.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)
    return check


def self_signed(folder: Path, names: str = "DNS:localhost,IP:127.0.0.1") -> tuple[Path, Path]:
    """A throwaway certificate for ``names`` (localhost and 127.0.0.1; openssl), as (cert, key)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    common = names.split(",")[0].split(":", 1)[1]
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", f"/CN={common}",
                    "-addext", f"subjectAltName={names}"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class SmtpServer:
    """The running server: ``port``, the ``sink`` and its records. ``tls``: "none"; "starttls"
    (STARTTLS required before MAIL and AUTH) or "ssl" (TLS from the first byte), with ``cert``."""

    def __init__(self, tls: str = "none", cert: tuple[Path, Path] | None = None) -> None:
        self.sink = Sink()
        self.port = free_port()
        self.tls = tls
        self.cert = cert[0] if cert else None
        kw: dict = {}
        if cert:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*cert)
            kw = {"tls_context": context, "require_starttls": True} if tls == "starttls" else {
                "ssl_context": context, "server_hostname": "localhost"}
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port,
                                     # aiosmtpd 1.4 offers AUTH under implicit TLS only if not required
                                     authenticator=_authenticate(self.sink), auth_require_tls=tls == "starttls",
                                     ready_timeout=10, **kw)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_tls_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SmtpServer]]:
    """A STARTTLS server and an implicit-TLS one, sharing a self-signed certificate."""
    cert = self_signed(tmp_path_factory.mktemp("smtp-tls"))
    servers = {tls: SmtpServer(tls, cert).start() for tls in ("starttls", "ssl")}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> Iterator[SmtpServer]:
    """The session's server with nothing recorded and nothing scripted."""
    smtp_server.sink.reset()
    yield smtp_server
    smtp_server.sink.reset()
