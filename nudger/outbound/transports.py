"""Where outgoing mail goes: the ``Transport`` protocol and the Maildir transport.

A transport answers each message with a ``DeliveryResult`` (sent, retry later, or dead with
the server's words). ``deliver`` is a generator that yields each answer as soon as that
message is handed over, and the pipeline records it before the next one goes: a run killed
mid-batch leaves every message before it recorded and at most the one in flight unknown
(it is still "sending", is queued again by the next run, and keeps its Message-ID).

Lifecycle: a command opens a transport with ``with`` and it is closed when the command ends,
even on error. Making one connects to nothing; a remote transport (SMTP) should connect on
the first ``deliver`` and let ``close()`` end the session. The Maildir transport holds
nothing between calls, so its ``close()`` has nothing to do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Self

from nudger.lifecycle import Closing
from nudger.maildir import deliver_to_maildir, denied_maildir, ensure_maildir


@dataclass(frozen=True)
class Outgoing:
    outbox_id: int
    envelope_from: str
    recipient: str
    raw: bytes


@dataclass(frozen=True)
class DeliveryResult:
    """``status``: "sent"; "retry" (a temporary answer about this message: an attempt spent,
    retried with backoff); "dead" (refused for good); or "untried": the message never reached
    the relay because no connection could be opened (down, our login refused, a certificate
    that does not verify). That says nothing about the recipient, so it spends no attempt: the
    row stays queued as it was, for the next run.

    ``relay``: why the relay, not this message, was the trouble: "unreachable" (no connection,
    or it was lost mid-message), "login" (it refused our credentials) or "certificate" (its
    certificate does not verify); "" when the answer is about this message. A run in which
    every message met the relay's trouble says so once and exits 75 (unreachable) or 78 (login,
    certificate: the config's to fix, said with ``fix``)."""

    outbox_id: int
    status: str  # "sent" | "retry" | "dead" | "untried"
    answer: str = ""
    relay: str = ""
    fix: str = ""  # what the admin does about the relay's trouble, when the config can fix it


class Transport(Protocol):
    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def close(self) -> None: ...

    def deliver(self, messages: Sequence[Outgoing]) -> Iterator[DeliveryResult]: ...

    def ready(self) -> None:
        """Raise ConfigError when nothing could be delivered (a Maildir the user running nudger
        may not write): asked before rows are claimed, so the queue waits, no retry spent."""
        ...


# What the transport does in each Maildir subfolder: (list it, write in it, why).
OUTBOUND_USES = {
    "tmp": (False, True, "each email is written there first"),
    "new": (False, True, "each email is renamed there from tmp/"),
}


class MaildirTransport(Closing):
    """One file per outbox row in ``new/``, named after the row so a resend replaces it."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def ready(self) -> None:
        denied = denied_maildir(self.path, "the outbound Maildir", OUTBOUND_USES)
        if denied is not None:
            raise denied
        ensure_maildir(self.path)

    def file_for(self, outbox_id: int) -> Path:
        return self.path / "new" / f"nudger-outbox-{outbox_id:08d}.eml"

    def deliver(self, messages: Sequence[Outgoing]) -> Iterator[DeliveryResult]:
        for msg in messages:
            envelope = (
                f"Return-Path: <{msg.envelope_from}>\r\nDelivered-To: {msg.recipient}\r\n"
            ).encode()
            try:
                deliver_to_maildir(self.path, envelope + msg.raw, self.file_for(msg.outbox_id).name)
            except OSError as exc:
                yield DeliveryResult(msg.outbox_id, "retry", f"maildir: {exc}")
            else:
                yield DeliveryResult(msg.outbox_id, "sent", "written to maildir")
