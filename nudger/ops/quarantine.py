"""The quarantine as an admin works with it: what is held (sender, subject, reason, time),
one message's headers and why it was kept, its bytes as an .eml, dropping it.

Sender and subject are read again from the kept bytes, header only: the quarantine stores the
message whole, exactly as it came, and that is what an admin exports or retries.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

from nudger.mail.message import undo_8bit
from nudger.state.store import Store

_HEADER_BYTES = 65536


@dataclass(frozen=True)
class Held:
    """One quarantined message, as the list shows it."""

    id: int
    at: str
    status: str  # held | released | dropped
    size: int
    sender: str
    subject: str
    reason: str
    source_key: str

    def as_json(self) -> dict:
        return dict(self.__dict__)


def _header_block(raw: bytes) -> bytes:
    ends = [at for at in (raw.find(b"\n\n", 0, _HEADER_BYTES), raw.find(b"\r\n\r\n", 0, _HEADER_BYTES)) if at >= 0]
    return raw[: min(ends) if ends else _HEADER_BYTES]


def _headers(raw: bytes) -> list[tuple[str, str]]:
    """Every header of the message, decoded for reading; never raises."""
    try:
        msg = BytesHeaderParser(policy=compat32).parsebytes(_header_block(raw) + b"\n\n", headersonly=True)
        items = [(str(k), str(v)) for k, v in msg.items()]
    except Exception:  # noqa: BLE001 - the bytes are kept as they came; showing them must not fail
        return []
    return [(k, _readable(v)) for k, v in items]


def _readable(value: str) -> str:
    text = undo_8bit(value)
    try:
        text = str(make_header(decode_header(text)))
    except Exception:  # noqa: BLE001
        pass
    return " ".join(text.split())[:2000]


def _first(headers: list[tuple[str, str]], name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


def held_messages(store: Store, *, everything: bool = True) -> list[Held]:
    """Quarantined messages, oldest first: held, released and dropped (only held without ``everything``)."""
    out = []
    for row in store.quarantine_rows(everything):
        headers = _headers(bytes(row["head"] or b""))
        out.append(Held(row["id"], row["at"], row["status"], row["size"], _first(headers, "from"),
                        _first(headers, "subject"), row["reason"], row["source_key"] or ""))
    return out


@dataclass(frozen=True)
class HeldMessage:
    held: Held
    headers: list[tuple[str, str]]
    detail: str  # the traceback when our own code failed on it, else ""
    raw: bytes


def held_message(store: Store, quarantine_id: int) -> HeldMessage | None:
    row = store.quarantined_message(quarantine_id)
    if row is None:
        return None
    raw = bytes(row["raw"] or b"")
    headers = _headers(raw)
    held = Held(row["id"], row["at"], row["status"], len(raw), _first(headers, "from"), _first(headers, "subject"),
                row["reason"], row["source_key"] or "")
    return HeldMessage(held, headers, row["detail"] or "", raw)


def export_eml(message: HeldMessage, target: Path) -> Path:
    """Write the message's bytes exactly as they came, 0600 (it may carry reply tokens); a
    directory gets ``quarantine-<id>.eml`` inside. Never overwrites a file."""
    path = target / f"quarantine-{message.held.id}.eml" if target.is_dir() else target
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(message.raw)
    return path
