"""Reading a delivery report (a bounce): who failed, how badly, and the server's words.

An RFC 3464 report (``multipart/report`` with a ``message/delivery-status`` part: Postfix,
Gmail, Exchange Online, Exim when configured so) is read from its own fields: ``Action``,
``Status``, ``Final-Recipient``, ``Diagnostic-Code``. For the common non-standard shapes (Exim's
plain text, older Exchange, qmail, Yahoo and others) flufl.bounce (GNU Mailman's detectors)
says which addresses failed and whether permanently; it gives no diagnostic, so the server's
words are the first line of the report's text that carries an SMTP reply or status code (or,
with none, the line under the failed address). A report whose only code is 4.x.x and that says
retries go on is a delay, whatever a detector thinks (flufl.bounce reads Exim's delay warning
as a permanent failure).
flufl.bounce is imported only when a non-standard report arrives (~0.1 s).

Pure: bytes in, a ``DeliveryReport`` out; nothing here knows about handoffs or the outbox.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email.message import Message

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_CODE_LINE = re.compile(r"(?:^|[\s;:(#])([45]\d\d)(?:[ -]|$)|\b[45]\.\d{1,3}\.\d{1,3}\b")
_MESSAGE_ID = re.compile(r"^(?:X-Original-)?Message-ID:\s*<?([^\s<>]+@[^\s<>]+)>?", re.I | re.M)
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_DELAY = re.compile(r"not yet been delivered|\bdelayed\b|delivery attempts will continue|will be retried|"
                    r"this is (?:just )?a warning|advisory-only", re.I)
MAX_DIAGNOSTIC = 300


@dataclass(frozen=True)
class DeliveryReport:
    """What a bounce says. ``action`` is RFC 3464's: "failed", "delayed", "delivered",
    "relayed", "expanded"; "unknown" when nothing in it could be read as a failure."""

    action: str
    status: str | None  # "5.1.1"; None when the report gives none
    diagnostic: str  # the server's words, on one line
    recipients: tuple[str, ...]  # the addresses it reports on, lowercased
    message_ids: tuple[str, ...]  # Message-IDs of the returned original (without <>)

    @property
    def failed(self) -> bool:
        return self.action == "failed"

    @property
    def hard(self) -> bool:
        """The address itself is refused (5.x.x): not a full mailbox or a message that expired."""
        return self.failed and (self.status is None or self.status.startswith("5"))

    def names(self, recipient: str, message_id: str | None) -> bool:
        """Whether this report is about that email: it names its recipient or its Message-ID."""
        mid = (message_id or "").strip("<>").lower()
        return recipient.lower() in self.recipients or bool(mid and mid in self.message_ids)


def read_report(raw: bytes) -> DeliveryReport:
    msg = email.message_from_bytes(raw)
    ids = tuple(dict.fromkeys(m.lower() for m in _MESSAGE_ID.findall(_after_headers(raw))))
    blocks = _status_blocks(msg)
    if blocks:
        return _from_dsn(blocks, ids, _report_text(msg))
    return _from_text(msg, ids)


def _after_headers(raw: bytes) -> str:
    """The report's body as text: the returned message's headers are in there somewhere."""
    end = re.search(rb"\r?\n\r?\n", raw)
    return raw[end.end() if end else 0:].decode("utf-8", "replace")


def _status_blocks(msg: Message) -> list[dict[str, str]]:
    """The per-message and per-recipient field blocks of the message/delivery-status part."""
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        if isinstance(payload, list):  # the stdlib parses the blocks as header-only messages
            text = "\n\n".join(p.as_string() if isinstance(p, Message) else str(p) for p in payload)
        else:
            data = part.get_payload(decode=True)
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else ""
        return [b for b in (_fields(chunk) for chunk in re.split(r"\r?\n\s*\r?\n", text)) if b]
    return []


def _fields(chunk: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    last = None
    for line in chunk.splitlines():
        if line[:1] in (" ", "\t") and last:
            fields[last] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            last = name.strip().lower()
            fields[last] = value.strip()
    return fields


def _from_dsn(blocks: list[dict[str, str]], ids: tuple[str, ...], text: str) -> DeliveryReport:
    recipients = [b for b in blocks if "action" in b]
    if not recipients:
        return DeliveryReport("unknown", None, "", (), ids)
    # The worst news first: a failure over a delay over anything else.
    rank = {"failed": 0, "delayed": 1}
    recipients.sort(key=lambda b: rank.get(b["action"].lower(), 2))
    first = recipients[0]
    status = _STATUS.search(first.get("status", ""))
    diagnostic = _strip_type(first.get("diagnostic-code", "")) or _diagnostic_line(text) or first.get("status", "")
    addresses = tuple(dict.fromkeys(a for b in recipients for key in ("final-recipient", "original-recipient")
                                    if (a := _strip_type(b.get(key, "")).strip("<>").lower())))
    return DeliveryReport(first["action"].lower().split()[0], status.group(0) if status else None,
                          _one_line(diagnostic), addresses, ids)


def _from_text(msg: Message, ids: tuple[str, ...]) -> DeliveryReport:
    from flufl.bounce import all_failures

    text = _report_text(msg)
    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # noqa: BLE001 - a detector that chokes on odd mail is no finding
        temporary, permanent = frozenset(), frozenset()
    failed = {a.decode("ascii", "replace").lower().strip("<>") for a in permanent}
    delayed = {a.decode("ascii", "replace").lower().strip("<>") for a in temporary}
    if not failed and not delayed:  # Exim's own header, when no detector knew the shape
        for header in msg.get_all("X-Failed-Recipients") or []:
            failed |= {a.lower() for a in _ADDRESS.findall(str(header))}
    diagnostic = _diagnostic_line(text) or _line_after(text, failed or delayed)
    status = _STATUS.search(diagnostic) or _STATUS.search(text)
    if status and status.group(1) == "4" and _DELAY.search(f"{msg.get('Subject', '')}\n{text}"):
        action = "delayed"  # a warning that retries go on (flufl.bounce reads Exim's as a failure)
    elif failed:
        action = "failed"
    elif delayed:
        action = "delayed"
    else:
        return DeliveryReport("unknown", None, _one_line(diagnostic), (), ids)
    return DeliveryReport(action, status.group(0) if status else None, _one_line(diagnostic),
                          tuple(sorted(failed or delayed)), ids)


def _report_text(msg: Message) -> str:
    """The human-readable text of the report, without the returned message."""
    parts: list[str] = []

    def walk(part: Message) -> None:
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "text/rfc822-headers", "message/delivery-status"):
            return
        if part.is_multipart():
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    walk(sub)
        elif ctype == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                parts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))

    walk(msg)
    text = "\n".join(parts)
    # Exim and others quote the returned message inline below a separator line.
    cut = re.search(r"^-{3,}.*(?:copy of the message|original message|undelivered message).*$", text,
                    re.I | re.M)
    return text[: cut.start()] if cut else text


def _diagnostic_line(text: str) -> str:
    """The first line with an SMTP reply or status code, with what continues it below."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _CODE_LINE.search(line) and not line.strip().lower().startswith(("status:", "arrival-date")):
            found = [line.strip()]
            for more in lines[i + 1:i + 4]:
                if not more.strip() or not more[:1].isspace() or _CODE_LINE.search(more):
                    break
                found.append(more.strip())
            return " ".join(found)
    return ""


def _line_after(text: str, addresses: set[str]) -> str:
    """No code anywhere (older Exchange): the words under the failed address are the reason."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if any(a in line.lower() for a in addresses):
            return next((m.strip() for m in lines[i + 1:i + 3] if m.strip()), "")
    return ""


def _strip_type(value: str) -> str:
    """``smtp; 550 5.1.1 ...`` → ``550 5.1.1 ...``; ``rfc822; a@b`` → ``a@b``."""
    kind, sep, rest = value.partition(";")
    return rest.strip() if sep and " " not in kind.strip() else value.strip()


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DIAGNOSTIC else text[: MAX_DIAGNOSTIC - 1] + "…"
