"""How a message is known again: its dedupe key and the hash of its body.

A redelivery keeps both; a different message that reuses a Message-ID keeps the key but
not the body hash, and must not be dropped as a duplicate.

The key is read before the message is parsed (it counts the attempts of a message that
stalls the parser), so it must not cost a parse of its own: a plain header block is read
by two regular expressions, and only an odd one (a line the stdlib would read another way)
goes through the stdlib's header parser.
"""

from __future__ import annotations

import hashlib
import re
from email.parser import BytesHeaderParser
from email.policy import compat32
from functools import lru_cache

from nudger.mail.message import undo_8bit

HEAD_LIMIT = 65536  # the key is read from the first 64 KB: a header block is never longer in real mail

# A header block as the stdlib's parser reads it with nothing odd: each line "Name: value"
# (a name of printable ASCII, no space) or a continuation (space or tab first), ended by LF or
# CRLF, up to the blank line. No lone CR or other character str.splitlines() breaks a line at
# (VT, FF, FS, GS, RS), no "From " envelope line, no line the parser would take as the body.
_LINE_CHARS = rb"[^\r\n\x0b\x0c\x1c-\x1e]*"
_PLAIN_BLOCK = re.compile(
    rb"(?:[\x21-\x39\x3b-\x7e]+:" + _LINE_CHARS + rb"\r?\n(?:[ \t]" + _LINE_CHARS + rb"\r?\n)*)*\r?\n")
_MESSAGE_ID = re.compile(rb"^message-id:(" + _LINE_CHARS + rb"\r?\n(?:[ \t]" + _LINE_CHARS + rb"\r?\n)*)",
                         re.IGNORECASE | re.MULTILINE)


def dedupe_key(raw: bytes) -> str:
    """The Message-ID when there is a usable one, else a hash of the whole message."""
    mid = re.sub(r"\s+", "", _message_id(raw)).strip("<>")
    if mid and len(mid) <= 250 and "@" in mid:
        return f"mid:{mid}"
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _message_id(raw: bytes) -> str:
    """The first Message-ID header's raw value, as the stdlib's compat32 parser of the first
    64 KB reads it (raw 8-bit read back by undo_8bit); '' when there is none."""
    head = header_block(raw)
    if _PLAIN_BLOCK.fullmatch(head):
        found = _MESSAGE_ID.search(head)
        if not found:
            return ""
        value = found.group(1)
        text = value.decode("ascii") if value.isascii() else undo_8bit(value.decode("ascii", "surrogateescape"))
        return text.strip()
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(head, headersonly=True)
        # raw_items: the stdlib shows raw 8-bit (RFC 6532) as U+FFFD, which undo_8bit reads back
        mid = next((str(v) for k, v in headers.raw_items() if k.lower() == "message-id"), "").strip()
    except Exception:  # noqa: BLE001 - any header we cannot read falls back to the hash
        mid = ""
    return undo_8bit(mid)


def header_block(raw: bytes) -> bytes:
    """The message up to its first blank line (LF LF or LF CRLF) in the first 64 KB, else those
    64 KB: never shorter than the header block the parser reads, and no body to read through."""
    head = raw[:HEAD_LIMIT]
    lf = head.find(b"\n\n")
    crlf = head.find(b"\n\r\n", 0, lf if lf >= 0 else len(head))  # only where it comes first
    if crlf >= 0:
        return head[:crlf + 3]
    return head[:lf + 2] if lf >= 0 else head


@lru_cache(maxsize=2)
def body_hash(raw: bytes) -> str:
    """The message after its header: what a redelivery keeps and a different message changes.
    Remembered for the message in hand: the dedupe check and the inbound record both ask
    (bytes cache their own hash, so the lookup does not read the message again)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = raw.find(sep)
        if at >= 0:
            return hashlib.sha256(raw[at + len(sep):]).hexdigest()
    return hashlib.sha256(raw).hexdigest()
