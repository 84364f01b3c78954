"""Where outgoing mail goes: the ``Transport`` protocol and the Maildir transport.

A transport answers each message with a ``DeliveryResult`` (sent, retry later, or dead with
the server's words); the pipeline records it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from nudger.maildir import deliver_to_maildir, ensure_maildir


@dataclass(frozen=True)
class Outgoing:
    outbox_id: int
    envelope_from: str
    recipient: str
    raw: bytes


@dataclass(frozen=True)
class DeliveryResult:
    outbox_id: int
    status: str  # "sent" | "retry" | "dead"
    answer: str = ""


class Transport(Protocol):
    def deliver(self, messages: list[Outgoing]) -> list[DeliveryResult]: ...


class MaildirTransport:
    """One file per outbox row in ``new/``, named after the row so a resend replaces it."""

    def __init__(self, path: Path):
        self.path = ensure_maildir(Path(path))

    def file_for(self, outbox_id: int) -> Path:
        return self.path / "new" / f"nudger-outbox-{outbox_id:08d}.eml"

    def deliver(self, messages: list[Outgoing]) -> list[DeliveryResult]:
        results = []
        for msg in messages:
            envelope = (
                f"Return-Path: <{msg.envelope_from}>\r\nDelivered-To: {msg.recipient}\r\n"
            ).encode()
            try:
                deliver_to_maildir(self.path, envelope + msg.raw, self.file_for(msg.outbox_id).name)
            except OSError as exc:
                results.append(DeliveryResult(msg.outbox_id, "retry", f"maildir: {exc}"))
            else:
                results.append(DeliveryResult(msg.outbox_id, "sent", "written to maildir"))
        return results
