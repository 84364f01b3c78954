"""Delivery through an SMTP relay (aiosmtplib): a few connections, reused, each answer as it comes.

``deliver`` is a plain generator over a private asyncio loop that runs in a thread of its own:
up to ``concurrency`` workers share the batch, each over a connection it keeps for the rest of
the run (across batches), and go on talking to the relay while the pipeline writes an answer.
A worker takes its next message only after the pipeline has recorded its last answer, so a run
killed mid-delivery leaves at most one accepted-but-unrecorded message per connection (resent
by the next run with the same Message-ID).

Answers: 2xx sent; a 5xx to RCPT or DATA is this recipient's or message's permanent
failure (dead, with the server's words); a 4xx, a 5xx to MAIL FROM or AUTH (about us, not the
recipient), a dropped connection or a timeout is temporary (the pipeline retries with
backoff). When no connection can be opened at all (the relay down, our login refused, its
certificate untrusted), the rest of the batch is answered "untried" at once instead of each
message waiting for its own timeout: nothing reached the relay, so no attempt is spent.

Imported only when ``transport = "smtp"``: aiosmtplib costs ~0.1 s to import.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import socket
import ssl
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import aiosmtplib

from nudger.lifecycle import Closing
from nudger.outbound.transports import DeliveryResult, Outgoing

TIMEOUT = 30.0  # seconds per SMTP command


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str  # "ssl" | "starttls" | "none"
    username: str | None = None
    password: str | None = None
    concurrency: int = 4
    timeout: float = TIMEOUT


def answer_text(code: int, message: str) -> str:
    return f"{code} {' '.join(message.split())}".strip()


def _ehlo_name() -> str:
    """The name we give in EHLO; aiosmtplib would otherwise look it up for every connection."""
    return socket.getfqdn() or "localhost"


class SmtpTransport(Closing):
    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._sockets: list[socket.socket] = []  # every connection's, to see them closed at the end
        self._idle: list[aiosmtplib.SMTP] = []  # open connections between batches
        self._live = 0  # connections open right now (idle or in use)
        self.down: str | None = None  # why no connection could be opened, once none could
        self.down_cause = ""  # "login" | "certificate" (the config's to fix) | "unreachable"
        self.down_fix = ""  # what the admin does about it, for "login" and "certificate"
        self._hostname = _ehlo_name()

    # --- connections --------------------------------------------------------------

    def client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(hostname=s.host, port=s.port, use_tls=s.tls == "ssl",
                               start_tls=True if s.tls == "starttls" else False,
                               timeout=s.timeout, local_hostname=self._hostname)

    async def _open(self) -> aiosmtplib.SMTP:
        smtp = self.client()
        try:
            await smtp.connect()
            if self.settings.username:
                # EHLO again: after STARTTLS aiosmtplib keeps the extensions offered before it, and
                # servers offer AUTH only over TLS.
                await smtp.ehlo()
                await smtp.login(self.settings.username, self.settings.password or "")
        except BaseException:
            smtp.close()
            raise
        self._live += 1
        self._sockets.append(smtp.get_transport_info("socket"))
        return smtp

    def _drop(self, smtp: aiosmtplib.SMTP) -> None:
        self._live -= 1
        smtp.close()

    # --- delivery -------------------------------------------------------------------

    def deliver(self, messages: Sequence[Outgoing]) -> Iterator[DeliveryResult]:
        if not messages:
            return
        loop = self._running_loop()
        answers: queue.SimpleQueue[tuple[DeliveryResult, asyncio.Future[None]]] = queue.SimpleQueue()
        batch = asyncio.run_coroutine_threadsafe(self._batch(deque(messages), answers), loop)
        try:
            for _ in range(len(messages)):
                result, recorded = self._next(answers, batch)
                yield result
                # The pipeline has written it: that connection may take its next message.
                loop.call_soon_threadsafe(_release, recorded)
            batch.result()
        finally:
            if not batch.done():
                batch.cancel()
                with contextlib.suppress(Exception, concurrent.futures.CancelledError):
                    batch.result(timeout=self.settings.timeout)

    @staticmethod
    def _next(answers: queue.SimpleQueue[tuple[DeliveryResult, asyncio.Future[None]]],
              batch: concurrent.futures.Future[None]) -> tuple[DeliveryResult, asyncio.Future[None]]:
        while True:
            try:
                return answers.get(timeout=1)
            except queue.Empty:
                if batch.done():  # the workers ended without an answer for every message: a bug
                    batch.result()
                    raise RuntimeError("SMTP delivery ended with messages unanswered") from None

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        """The transport's loop runs in a thread of its own, so connections go on talking while
        the pipeline writes an answer to the database."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="nudger-smtp", daemon=True)
            self._thread.start()
        return self._loop

    async def _batch(self, work: deque[Outgoing],
                     answers: queue.SimpleQueue[tuple[DeliveryResult, asyncio.Future[None]]]) -> None:
        workers = [asyncio.create_task(self._worker(work, answers))
                   for _ in range(min(self.settings.concurrency, len(work)))]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _worker(self, work: deque[Outgoing],
                      answers: queue.SimpleQueue[tuple[DeliveryResult, asyncio.Future[None]]]) -> None:
        smtp: aiosmtplib.SMTP | None = None
        finished = False
        try:
            while work:
                msg = work.popleft()
                if smtp is None and self.down is None:
                    smtp = await self._connection()
                    if smtp is None and self.down is None:  # others are connected (the server limits us)
                        work.appendleft(msg)
                        break
                if smtp is None:
                    result = DeliveryResult(msg.outbox_id, "untried", f"not tried: {self.down}", self.down_cause,
                                            self.down_fix)
                else:
                    result, keep = await self._send(smtp, msg)
                    if not keep:
                        self._drop(smtp)
                        smtp = None
                recorded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                answers.put((result, recorded))
                await recorded
            finished = True
        finally:
            if smtp is not None:
                if finished:
                    self._idle.append(smtp)
                else:  # cancelled mid-conversation: its state is unknown
                    self._drop(smtp)

    async def _connection(self) -> aiosmtplib.SMTP | None:
        """An idle connection, else a new one. None when this one failed but others are open;
        when none is open at all, ``down`` says why and every message left is "not tried"."""
        if self._idle:
            return self._idle.pop()
        try:
            return await self._open()
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            if self._idle:
                return self._idle.pop()
            if self._live > 0:
                return None
            self.down = _why_down(self.settings, exc)
            if (untrusted := certificate_failure(exc)) is not None:
                self.down_cause, self.down_fix = "certificate", certificate_fix(self.settings, untrusted)
            elif isinstance(exc, aiosmtplib.SMTPAuthenticationError) and 500 <= exc.code < 600:
                self.down_cause, self.down_fix = "login", "check outbound.username and outbound.password_env"
            else:
                self.down_cause = "unreachable"
            return None

    async def _send(self, smtp: aiosmtplib.SMTP, msg: Outgoing) -> tuple[DeliveryResult, bool]:
        """One message over one connection: (the answer, whether the connection is still good)."""
        oid = msg.outbox_id
        try:
            refused, reply = await smtp.sendmail(msg.envelope_from, [msg.recipient], msg.raw)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            return _by_code(oid, first.code, first.message, "RCPT"), True
        except aiosmtplib.SMTPSenderRefused as exc:
            # About our envelope sender or relay permission, not the recipient: never dead here.
            return DeliveryResult(oid, "retry", f"MAIL FROM refused: {answer_text(exc.code, exc.message)}"), \
                exc.code != 421
        except aiosmtplib.SMTPDataError as exc:
            return _by_code(oid, exc.code, exc.message, "DATA"), exc.code != 421
        except aiosmtplib.SMTPResponseException as exc:
            return DeliveryResult(oid, "retry", answer_text(exc.code, exc.message)), False
        except ValueError as exc:  # an address aiosmtplib will not put on the wire
            return DeliveryResult(oid, "dead", f"address not sendable: {exc}"), True
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            return DeliveryResult(oid, "retry", f"connection lost: {type(exc).__name__}: {exc}",
                                  "unreachable"), False
        if msg.recipient in refused:  # a partial refusal comes back in the dict, not raised
            code, text = refused[msg.recipient]
            return _by_code(oid, code, text, "RCPT"), True
        return DeliveryResult(oid, "sent", answer_text(250, reply)), True

    def ready(self) -> None:
        """Nothing to check before delivering: the relay is reached on the first delivery,
        and what it answers is recorded per message (`doctor` probes it)."""

    def close(self) -> None:
        if self._loop is None:
            return
        loop, self._loop = self._loop, None
        idle, self._idle = self._idle, []

        async def quit_all() -> None:
            for smtp in idle:
                try:
                    await asyncio.wait_for(smtp.quit(), 5)
                except Exception:  # noqa: BLE001 - closing: a server that hung up already is fine
                    smtp.close()
            await _closed(self._sockets)

        try:
            asyncio.run_coroutine_threadsafe(quit_all(), loop).result(timeout=5 * len(idle) + 5)
        except Exception:  # noqa: BLE001 - whatever QUIT did, the loop is stopped and closed
            pass
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(10)
            loop.close()


async def _closed(sockets: list[socket.socket], limit: float = 2.0) -> None:
    """Let the loop finish closing: a TLS connection closes its socket only after its own
    shutdown, and a loop stopped before that leaves the socket open."""
    deadline = asyncio.get_running_loop().time() + limit
    while any(s is not None and s.fileno() != -1 for s in sockets) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)


def _release(recorded: asyncio.Future[None]) -> None:
    if not recorded.done():
        recorded.set_result(None)


def _by_code(outbox_id: int, code: int, message: str, stage: str) -> DeliveryResult:
    status = "dead" if 500 <= code < 600 else "retry"
    return DeliveryResult(outbox_id, status, f"{stage}: {answer_text(code, message)}")


def certificate_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate check behind ``exc``, if that is what failed: STARTTLS raises it as it
    is, implicit TLS wrapped in aiosmtplib's SMTPConnectError."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


_NAME_MISMATCH = (62, 64)  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH


def certificate_fix(s: SmtpSettings, exc: ssl.SSLCertVerificationError) -> str:
    """What the admin does about a relay certificate that does not verify, as IMAP's says it:
    the certificate is for another name (outbound.host), or no trusted CA signed it."""
    if exc.verify_code in _NAME_MISMATCH:
        return (f"set outbound.host to a name the relay's certificate is for (it is not for {s.host}), "
                "or fix the relay's certificate")
    return ("point $SSL_CERT_FILE at the CA that signed the relay's certificate (a private CA's, say), "
            f"or fix the relay's certificate for {s.host}")


def _does_not_verify(exc: ssl.SSLCertVerificationError) -> str:
    return f"does not verify ({exc.verify_message or exc})"


def _why_down(s: SmtpSettings, exc: BaseException) -> str:
    where = f"{s.host}:{s.port}"
    if (untrusted := certificate_failure(exc)) is not None:
        return f"the certificate of {where} {_does_not_verify(untrusted)}"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return f"{where} refused AUTH for {s.username}: {answer_text(exc.code, exc.message)}"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{where}: {answer_text(exc.code, exc.message)}"
    return f"cannot connect to {where}: {type(exc).__name__}: {exc}"


def probe(settings: SmtpSettings) -> list[tuple[bool, str, str]]:
    """What `nudger doctor` checks: connect, EHLO, STARTTLS, AUTH, as a run would; no mail
    sent. (ok, what, how to fix it) for each step, up to the first that fails."""
    return asyncio.run(_probe(settings))


async def _probe(s: SmtpSettings) -> list[tuple[bool, str, str]]:
    where = f"SMTP {s.host}:{s.port} (tls {s.tls})"
    checks: list[tuple[bool, str, str]] = []
    opened: list[socket.socket] = []
    smtp = aiosmtplib.SMTP(hostname=s.host, port=s.port, use_tls=s.tls == "ssl", start_tls=False,
                           timeout=min(s.timeout, 15), local_hostname=_ehlo_name())
    try:
        try:
            greeting = await smtp.connect()
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            if (untrusted := certificate_failure(exc)) is not None:
                checks.append((False, f"{where}: the certificate {_does_not_verify(untrusted)}",
                               certificate_fix(s, untrusted)))
                return checks
            ssl_hint = (" With tls = \"ssl\" the server must speak TLS at once (port 465); use \"starttls\" "
                        "for 587 or 25." if s.tls == "ssl" else "")
            checks.append((False, f"{where}: cannot connect: {type(exc).__name__}: {exc}",
                           "check outbound.host, outbound.port and outbound.tls, and that the relay is up and "
                           f"reachable from here.{ssl_hint}"))
            return checks
        opened.append(smtp.get_transport_info("socket"))
        checks.append((True, f"{where}: connected ({answer_text(greeting.code, greeting.message)[:60]})", ""))
        ehlo = await smtp.ehlo()
        checks.append((True, f"SMTP EHLO accepted ({len(smtp.esmtp_extensions)} extensions)", "")
                      if ehlo.code == 250 else (False, f"SMTP EHLO refused: {answer_text(ehlo.code, ehlo.message)}",
                                                "ask the relay's admin to accept this host"))
        if s.tls == "starttls":
            if not smtp.supports_extension("starttls"):
                checks.append((False, "SMTP STARTTLS not offered", 'set outbound.tls = "ssl" (port 465) if the '
                               'relay speaks TLS at once, or "none" only on a network you trust'))
                return checks
            try:
                await smtp.starttls()
            except (aiosmtplib.SMTPException, OSError) as exc:
                untrusted = certificate_failure(exc)
                checks.append((False, "SMTP STARTTLS failed: " + (
                                   f"the certificate {_does_not_verify(untrusted)}" if untrusted else str(exc)),
                               certificate_fix(s, untrusted) if untrusted else
                               f"the relay's certificate must be valid for {s.host} (SSL_CERT_FILE names a CA "
                               "bundle to trust)"))
                return checks
            await smtp.ehlo()  # what the server offers over TLS (AUTH, usually)
            checks.append((True, "SMTP STARTTLS: TLS up, certificate valid", ""))
        if not s.username:
            checks.append((True, "SMTP AUTH: none configured (the relay must accept this host)", ""))
        elif not smtp.supports_extension("auth"):
            checks.append((False, "SMTP AUTH not offered by the relay", "remove outbound.username if the relay "
                           "trusts this host, or use the port that offers AUTH (often 587 with starttls)"))
        else:
            try:
                await smtp.login(s.username, s.password or "")
                checks.append((True, f"SMTP AUTH as {s.username} accepted", ""))
            except aiosmtplib.SMTPException as exc:
                checks.append((False, f"SMTP AUTH as {s.username} refused: {exc}",
                               "check outbound.username and the password in outbound.password_env"))
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError):
            pass
        return checks
    finally:
        smtp.close()
        await _closed(opened)
